"""``mda-glassml build-datasets``: the paper's six datasets, or labels by the campaign's Tg."""

from __future__ import annotations

import sys

from .common import UsageError, int_list



def add_parser(sub) -> None:
    b = sub.add_parser("build-datasets", help="the paper's six labelled datasets from campaign folders",
                       description="Manifests (CSV: file, frame, label, temperature, is_energy, trajectory) of "
                                   "datasets 1-6, thermal and inherent structures. Dataset 6 is built only if its "
                                   "liquids and glasses have the same mean IS energy within errors.")
    b.add_argument("--out", required=True, help="folder for the manifests")
    b.add_argument("--cooling", help="cooling campaign (records 1,25,107,149,160,200): datasets 1-5")
    b.add_argument("--liquids", action="append",
                   help="equilibrium-liquid campaign (simulate --hold-temperature): dataset 6's liquids; with "
                        "--by-tg, repeat it for liquids at several temperatures")
    b.add_argument("--glasses", help="cooling campaign for dataset 6's glasses (default: --cooling)")
    b.add_argument("--datasets", default=None, help="comma-separated subset of 1-6 (default: all that the inputs allow)")
    b.add_argument("--sigmas", type=float, default=2.0,
                   help="dataset 6 needs |mean liquid - mean glass| <= SIGMAS combined standard errors (default 2)")
    b.add_argument("--by-tg", action="store_true",
                   help="label every record by the physics instead: glass below Tg - DELTA, liquid above Tg + DELTA "
                        "(Tg fitted on the cooling campaign's own IS energies); writes tg_thermal.csv, "
                        "tg_thermal_is.csv and the band's tg_band.csv")
    b.add_argument("--delta", type=float, default=0.05, help="--by-tg: half-width of the band left out (default 0.05)")
    b.add_argument("--tg", type=float, default=None, help="--by-tg: use this Tg instead of fitting it")
    b.add_argument("--quiet", action="store_true")


def run(args) -> None:
    from ..simulation.datasets import build_datasets, build_tg_datasets

    if args.by_tg:
        if not args.cooling or args.glasses or args.datasets:
            raise UsageError("--by-tg needs --cooling (and optionally --liquids); --glasses and --datasets "
                             "belong to the paper's datasets")
        summary = build_tg_datasets(args.out, cooling=args.cooling, liquids=args.liquids or (), delta=args.delta,
                                    tg=args.tg)
        if not args.quiet:
            err = f" +- {summary['tg_err']:.3f}" if summary["tg_err"] is not None else " (given)"
            print(f"Tg = {summary['tg']:.3f}{err}; glass below {summary['glass_below']:.3f}, liquid above "
                  f"{summary['liquid_above']:.3f}: {summary['n_glass']} glasses, {summary['n_liquid']} liquids, "
                  f"{summary['n_band']} in the band (left out), {summary['n_trajectories']} trajectories")
            print(f"wrote tg_*.csv and tg_datasets.json to {args.out}", file=sys.stderr)
        return
    if args.liquids and len(args.liquids) > 1:
        raise UsageError("the paper's dataset 6 takes one --liquids campaign (several only with --by-tg)")
    args.liquids = args.liquids[0] if args.liquids else None
    datasets = int_list(args.datasets, "--datasets") if args.datasets else None
    summary = build_datasets(args.out, cooling=args.cooling, liquids=args.liquids, glasses=args.glasses,
                             datasets=datasets, sigmas=args.sigmas)
    if not args.quiet:
        for name, d in summary["datasets"].items():
            print(f"{name:12s} {d['n_liquid']:4d} liquids (T = {d['liquid_temperature']:.3f}, IS "
                  f"{d['mean_is_energy_liquid']:.4f})  {d['n_glass']:4d} glasses (IS {d['mean_is_energy_glass']:.4f})")
        if "dataset6_energy_match" in summary:
            print("dataset 6 energy match: " + summary["dataset6_energy_match"]["text"])
        print(f"wrote manifests and datasets.json to {args.out}", file=sys.stderr)
