"""``mda-glassml classify``: P(glass) per frame, with the B-neighbor metrics beside it."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .common import add_trajectory_args, print_table, run_analysis, save_figure, universe, write_csv


#: What Ctrl-C leaves behind, said after "interrupted".
INTERRUPTED = '; nothing was written.'


def add_parser(sub) -> None:
    k = sub.add_parser("classify", help="P(glass) per frame, with the B-neighbor metrics",
                       description="Classify every frame of a 2D trajectory as glass or liquid with a trained "
                                   "model (default: the shipped D-MPNN), with the three B-neighbor metrics.")
    add_trajectory_args(k)
    k.add_argument("--model", default="ka2d-dmpnn",
                   help="ka2d-dmpnn (default), ka2d-cnn, ka2d-dmpnn-paper, ka2d-cnn-paper (the paper's task), "
                        "or a model bundle (model.pt from mda-glassml train)")
    k.add_argument("--window", type=float, default=None,
                   help="D-MPNN: P(glass) as the mean over sliding windows of this side (length units) instead of "
                        "whole frames; the B-neighbor columns stay whole-frame (mda-glassml metrics --window for those)")
    k.add_argument("--device", default="cpu",
                   help="cpu (default), cuda (a CUDA GPU; an error if there is none) or auto (the GPU if any)")
    k.add_argument("--compile", action="store_true",
                   help="run the model through torch.compile: same results, 1.1-1.3x faster on frames of "
                        "10^5-10^6 particles; the first frame compiles it (5-30 s; needs a C++ compiler)")
    k.add_argument("--inherent", action="store_true",
                   help="classify each frame's inherent structure: FIRE-minimise it with the Kob-Andersen potential "
                        "first, so that thermal vibration cannot decide; 15-60 s per 4320-particle frame (use --step). "
                        "The B-neighbor columns stay those of the frames as recorded")
    k.add_argument("--engine", default="lammps", choices=("lammps", "hoomd"),
                   help="--inherent: the minimiser's engine (default lammps)")
    k.add_argument("--view", default="auto", choices=("auto", "thermal", "inherent"),
                   help="which of the model's two calibrations to apply: auto (default) tells thermal frames from "
                        "inherent structures by their forces; thermal or inherent forces one")
    k.add_argument("--out", help="CSV file for the per-frame table")
    k.add_argument("--plot", help="image file of P(glass) and the metrics against frame or temperature")


def run(args) -> None:
    from ..analysis import BNeighborMetrics, GlassClassifier
    from ..plots import classification_figure
    from ..trajectory import logged_temperature

    u = universe(args)
    # Build both analyses first: a bad model, type or window fails before any frame is read.
    clf = GlassClassifier(u.atoms, model=args.model, a_type=args.a_type, b_type=args.b_type, window=args.window,
                          device=args.device, inherent=args.engine if args.inherent else None,
                          compile=args.compile, view=args.view)
    metrics = BNeighborMetrics(u.atoms, a_type=args.a_type, b_type=args.b_type)
    res = run_analysis(clf, args).results
    met = run_analysis(metrics, args).results
    columns: dict[str, Any] = {"frame": res.frames, "time": res.times}
    temperature = logged_temperature(u)
    if temperature is not None:
        columns["temperature"] = temperature[res.frames]
    columns["p_glass"] = res.probability
    for key in ("n_components", "n_bb_edges", "n_isolated_a"):
        columns[key] = met[key]
    crossing = None
    logged = np.isfinite(columns["temperature"]) if temperature is not None else None
    # frames that log no temperature (NaN) are left out of the crossing, not an error after the table
    if logged is not None and np.unique(columns["temperature"][logged]).size >= 3:
        from ..classify import crossing_temperature

        crossing = crossing_temperature(columns["temperature"][logged], columns["p_glass"][logged])
    if args.out:
        write_csv(args.out, columns)
    if args.plot:
        x = "temperature" if logged is not None and logged.all() else "frame"
        at = crossing.temperature if crossing is not None and crossing.reason is None and x == "temperature" else None
        save_figure(classification_figure(columns, x=x, title=f"{args.model}: P(glass) and B-neighbor metrics",
                                           crossing=at), args.plot)
    if not args.quiet:
        print_table(columns, ["frame"] + (["temperature"] if temperature is not None else [])
                     + ["p_glass", "n_components", "n_bb_edges", "n_isolated_a"])
        if crossing is not None:
            print(f"P(glass) crosses 0.5 at T = {crossing.temperature:.3f} (logistic width {crossing.width:.3f})"
                  if crossing.reason is None else crossing.reason)
        for path in (args.out, args.plot):
            if path:
                print(f"wrote {path}", file=sys.stderr)
