"""``mda-glassml reproduce``: the paper's experiments end to end, with a report."""

from __future__ import annotations

import sys

from .common import local_workers


#: What Ctrl-C leaves behind, said after "interrupted".
INTERRUPTED = '; finished steps and runs are kept: run the same command to go on.'


def add_parser(sub) -> None:
    rp = sub.add_parser("reproduce", help="the paper's experiments end to end, with a report",
                        description="Run the paper's experiments (campaigns, Tg, datasets, metrics around Tg, RDFs) "
                                    "and write OUT/report.md and OUT/results.json. Restartable: run the same command "
                                    "again to continue; finished steps are kept.")
    rp.add_argument("--preset", default="cpu", help="smoke (CI), cpu (a 2-core machine, default) or paper")
    rp.add_argument("--out", default=None, help="output folder (default: repro-PRESET)")
    rp.add_argument("--workers", type=int, default=None,
                    help="local worker processes for the campaigns (default 1; not with --scheduler)")
    rp.add_argument("--scheduler", default=None, help="address of a running dask scheduler (instead of --workers)")
    rp.add_argument("--engine", choices=("lammps", "hoomd"), default="lammps", help="MD engine (default lammps)")
    rp.add_argument("--device", choices=("auto", "gpu", "cpu"), default="auto",
                    help="HOOMD-blue's device for the campaigns (default auto)")
    rp.add_argument("--train-device", default="cpu",
                    help="torch's device for the training steps: cpu (default), cuda (an error if there is none) "
                         "or auto")
    rp.add_argument("--dry-run", action="store_true", help="print the plan and its estimated cost; run nothing")
    rp.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args) -> None:
    from ..reproduce.pipeline import Reproduction
    from ..reproduce.presets import get_preset

    preset = get_preset(args.preset)
    rep = Reproduction(preset, args.out or f"repro-{preset.name}", engine=args.engine, n_workers=local_workers(args),
                       scheduler=args.scheduler, device=args.device, progress=not args.quiet,
                       train_device=args.train_device)
    if args.dry_run:
        print(rep.describe_plan())
        return
    rep.run()
    if not args.quiet:
        print(f"wrote {rep.out / 'report.md'} and {rep.out / 'results.json'}", file=sys.stderr)
