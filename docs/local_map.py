"""The local P(glass) map along a cooling run near Tg (docs/pretrained.rst's figure).

Usage::

    python docs/local_map.py CAMPAIGN [--run 0] [--model ka2d-dmpnn] [--window 12] [--out FILE]

For the records of one run of a cooling campaign (any engine, any N; a run
the model never saw) closest to ``--temperatures``, the particles coloured by
their local P(glass): the mean over the sliding windows of side ``--window``
that hold them (:meth:`mda_glassml.classify.Classifier.window_map`), thermal
frames on top, their inherent structures below.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gsd.hoomd
import numpy as np
from matplotlib.figure import Figure

from mda_glassml.classify import Classifier
from mda_glassml.frames import Frame
from mda_glassml.simulation.campaign import Campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("campaign")
    parser.add_argument("--run", type=int, default=0)
    parser.add_argument("--model", default="ka2d-dmpnn")
    parser.add_argument("--window", type=float, default=12.0)
    parser.add_argument("--temperatures", default="0.44,0.40,0.36,0.32,0.25")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "_static" / "local_map_cooling.png")
    args = parser.parse_args()
    c = Campaign.open(args.campaign)
    temps = c.protocol.record_temperatures()[list(c.records)]
    want = [float(t) for t in args.temperatures.split(",")]
    picks = sorted({int(np.argmin(abs(temps - t))) for t in want}, key=lambda k: -temps[k])
    clf = Classifier(args.model)
    fig = Figure(figsize=(2.6 * len(picks) + 0.8, 5.6), layout="constrained")
    axes = fig.subplots(2, len(picks), squeeze=False)
    for row, path in enumerate(c.paths(args.run)[:2]):
        with gsd.hoomd.open(path) as traj:
            for col, k in enumerate(picks):
                frame = Frame.from_gsd(traj[k], frame=k)
                m = clf.window_map(frame, args.window)
                ax = axes[row, col]
                # a marker about a particle's diameter; a yellow middle, visible on white
                size = (0.8 * 2.4 * 72 / np.sqrt(frame.area)) ** 2
                art = ax.scatter(*frame.positions.T, c=m.local_probability, s=size, cmap="RdYlBu_r", vmin=0, vmax=1,
                                 linewidths=0)
                ax.set_aspect("equal")
                ax.set_xticks([]), ax.set_yticks([])
                kind = "thermal" if row == 0 else "inherent structure"
                ax.set_title(f"T = {temps[k]:.3f}, {kind}\nP(glass) = {m.probability:.2f}", fontsize="small")
                print(f"T = {temps[k]:.3f} {kind}: frame P(glass) {m.probability:.3f}, local "
                      f"{np.percentile(m.local_probability, 5):.2f}-{np.percentile(m.local_probability, 95):.2f} "
                      "(5-95 %)")
    fig.colorbar(art, ax=axes, shrink=0.6, label="local P(glass)")
    fig.suptitle(f"{args.model}, {c.folder.name} run {args.run} (N = {c.protocol.n_particles}), windows of side "
                 f"{args.window:g}", fontsize="small")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)


if __name__ == "__main__":
    main()
