"""``mda-glassml metrics``: the B-neighbor metrics per frame."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .common import add_trajectory_args, print_table, run_analysis, save_figure, universe, write_csv


#: What Ctrl-C leaves behind, said after "interrupted".
INTERRUPTED = '; nothing was written.'


def add_parser(sub) -> None:
    m = sub.add_parser("metrics", help="B-neighbor metrics per frame",
                       description="B-neighbor metrics (Swanson et al. 2020) for every frame of a 2D trajectory.")
    add_trajectory_args(m)
    m.add_argument("--k", type=int, default=2, help="nearest neighbours (default 2, as in the paper)")
    m.add_argument("--definition", choices=("symmetric", "directed"), default="symmetric",
                   help="graph definition (default symmetric: the original code's)")
    m.add_argument("--window", type=float, default=None, help="side of a square window to analyse (length units)")
    m.add_argument("--out", help="CSV file for the per-frame table")
    m.add_argument("--plot", help="image file (PNG, PDF, SVG) of the metrics against frame or temperature")


def run(args) -> None:
    from ..analysis import BNeighborMetrics
    from ..plots import metrics_figure
    from ..trajectory import logged_temperature

    u = universe(args)
    analysis = BNeighborMetrics(u.atoms, k=args.k, a_type=args.a_type, b_type=args.b_type,
                                definition=args.definition, window=args.window)
    res = run_analysis(analysis, args).results
    columns: dict[str, Any] = {"frame": res.frames, "time": res.times}
    temperature = logged_temperature(u)
    if temperature is not None:
        columns["temperature"] = temperature[res.frames]
    for key in BNeighborMetrics._per_frame:
        columns[key] = res[key]
    if args.out:
        write_csv(args.out, columns)
    if args.plot:
        x = "temperature" if temperature is not None and np.isfinite(columns["temperature"]).all() else "frame"
        title = f"B-neighbor metrics (k = {args.k}, {args.definition})"
        save_figure(metrics_figure(columns, x=x, title=title), args.plot)
    if not args.quiet:
        print_table(columns, ["frame"] + (["temperature"] if temperature is not None else [])
                     + ["n_components", "n_bb_edges", "n_isolated_a"])
        for path in (args.out, args.plot):
            if path:
                print(f"wrote {path}", file=sys.stderr)
