"""``mda-glassml rdf``: partial RDFs averaged over frames."""

from __future__ import annotations

import sys

import numpy as np

from .common import add_trajectory_args, run_analysis, save_figure, universe, write_csv


#: What Ctrl-C leaves behind, said after "interrupted".
INTERRUPTED = '; nothing was written.'


def add_parser(sub) -> None:
    r = sub.add_parser("rdf", help="partial RDFs averaged over frames",
                       description="AA, AB, BB and total g(r) of a 2D binary mixture, averaged over frames.")
    add_trajectory_args(r)
    r.add_argument("--r-max", type=float, default=5.0, help="largest distance (default 5)")
    r.add_argument("--bins", type=int, default=250, help="number of bins (default 250)")
    r.add_argument("--out", help="CSV file: r and g(r) of each pair")
    r.add_argument("--plot", help="image file of g(r)")


def run(args) -> None:
    from ..analysis import PartialRDF
    from ..plots import rdf_figure
    from ..rdf import PAIRS

    u = universe(args)
    analysis = PartialRDF(u.atoms, a_type=args.a_type, b_type=args.b_type, r_max=args.r_max, n_bins=args.bins)
    res = run_analysis(analysis, args).results
    columns = {"r": res.bins, **{f"g_{pair}": res.rdf[pair] for pair in PAIRS}}
    if args.out:
        write_csv(args.out, columns)
    if args.plot:
        save_figure(rdf_figure(res.bins, res.rdf, (args.a_type, args.b_type)), args.plot)
    if not args.quiet:
        peak = int(np.argmax(res.rdf["AA"]))
        print(f"{len(res.frames)} frames; first A-A peak g = {res.rdf['AA'][peak]:.3f} at r = {res.bins[peak]:.3f}")
        for path in (args.out, args.plot):
            if path:
                print(f"wrote {path}", file=sys.stderr)
