"""``mda-glassml simulate``: a restartable campaign of cooling runs or equilibrium liquids."""

from __future__ import annotations

import sys

from .common import UsageError, local_workers


#: What Ctrl-C leaves behind, said after "interrupted".
INTERRUPTED = '; finished runs are kept: run the same command to go on.'


def add_parser(sub) -> None:
    s = sub.add_parser("simulate", help="run a campaign of independent cooling runs (or equilibrium liquids)",
                       description="Independent runs of the paper's 2D Kob-Andersen protocol on dask, restartable: "
                                   "rerunning the same command skips complete runs and redoes damaged ones.")
    s.add_argument("--out", required=True, help="campaign folder (created; must hold this same campaign if it exists)")
    s.add_argument("--n-trajectories", type=int, required=True, help="independent runs wanted in the folder")
    s.add_argument("--engine", default="lammps", help="lammps (CPU) or hoomd (HOOMD-blue, GPU by default)")
    s.add_argument("--device", default="auto",
                   help="hoomd only: auto (a GPU if there is one, else the CPU with a warning), gpu (an error "
                        "where there is none) or cpu (default auto)")
    s.add_argument("--steps", type=int, default=None,
                   help="cooling steps from T = 2 to 0.05 (default 200000, the paper's fast rate; slow: 20000000)")
    s.add_argument("--particles", type=int, default=4320, help="particles (default 4320)")
    s.add_argument("--density", type=float, default=1.2, help="number density (default 1.2)")
    s.add_argument("--records", default=None,
                   help="records to keep: a preset (datasets, tg, all) or comma-separated indices k of 0..200 "
                        "(default: datasets = 1,25,107,149,160,200; hold runs: all)")
    s.add_argument("--seed", type=int, default=1, help="campaign seed; each run's seed derives from it (default 1)")
    s.add_argument("--workers", type=int, default=None,
                   help="local dask worker processes, one thread each (default 1; not with --scheduler)")
    s.add_argument("--scheduler", default=None, help="address of a running dask scheduler to use instead")
    s.add_argument("--hold-temperature", type=float, default=None,
                   help="make equilibrium liquids instead: melt at T = 2, quench to this T and hold")
    s.add_argument("--hold-steps", type=int, default=None, help="steps held at --hold-temperature (default 300000)")
    s.add_argument("--hold-records", type=int, default=1, help="records spread over the hold, last at its end (default 1)")
    s.add_argument("--melt-steps", type=int, default=10_000, help="steps at T = 2 before the quench (default 10000)")
    s.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def run(args) -> None:
    from ..simulation.campaign import ENGINES, parse_records, run_campaign
    from ..simulation.protocol import make_protocol

    if args.engine not in ENGINES:
        raise UsageError(f"unknown engine {args.engine!r}; choose one of {', '.join(ENGINES)}")
    protocol = make_protocol(args.particles, args.density, args.steps, args.hold_temperature, args.hold_steps,
                             args.melt_steps, args.hold_records)
    records = parse_records(args.records, protocol)
    try:
        report = run_campaign(args.out, protocol, args.n_trajectories, engine=args.engine, records=records,
                              campaign_seed=args.seed, n_workers=local_workers(args), scheduler=args.scheduler,
                              progress=not args.quiet, device=args.device)
    except RuntimeError as err:  # failed runs: the message lists them; complete runs are kept
        print(f"mda-glassml simulate: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    if not args.quiet:
        print(report.summary())
