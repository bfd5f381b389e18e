"""How fast is the renderer? Prints images per second and ratios measured in one run.

Draws the 21 frames of the bundled example (4320-particle 2D Kob-Andersen
frames, 250 x 250 pixels, the paper's dot) three ways:

1. ``Renderer.images`` (numpy, vectorised over particles);
2. ``render_matplotlib``, the same picture drawn by matplotlib's Agg canvas
   (one marker size per dot, so each is drawn at its exact position);
   goal: ``Renderer.images`` at least 20x faster;
3. for context, the original's pipeline in memory: ``scatter(s=1)`` on a
   276-pixel canvas at 100 dpi, cropped to 250 (Agg's fast path: one marker
   stamped at whole-pixel positions; no periodic images, no PNG file).

It also checks that 1 and 2 agree (mean absolute difference under one grey
level). All three run on one thread (numpy's element-wise loops and Agg are
single-threaded). Run:
``python benchmarks/bench_render.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import platform

import gsd.hoomd
import matplotlib
import numpy as np
from bench_metrics import best_of  # benchmarks/ is on sys.path when run as a script
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.frames import Frame
from mda_glassml.models.render import Renderer, render_matplotlib


def original_pipeline(frame: Frame) -> np.ndarray:
    """The original's drawing (coords_config.plot_config), kept in memory."""
    fig = Figure(figsize=(2.76, 2.76), dpi=100, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    for code, color in ((0, "C1"), (1, "C0")):
        pos = frame.positions[frame.types == code]
        ax.scatter(pos[:, 0], pos[:, 1], s=1, color=color)
    ax.axis("equal")
    ax.set_axis_off()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[13:263, 13:263, :3].copy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timings of the 21 frames; the best is kept")
    args = parser.parse_args()

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        frames = [Frame.from_gsd(traj[i], frame=i) for i in range(len(traj))]
    renderer = Renderer()
    n = len(frames)
    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}, "
          f"matplotlib {matplotlib.__version__}")
    print(f"frames: {n} x {frames[0].n_particles} particles (bundled example), "
          f"{renderer.size} x {renderer.size} px, dot radius {renderer.dot_radius:.3f} px")

    fast = renderer.images(frames)          # also builds the dot table, once per radius
    slow = np.stack([render_matplotlib(f) for f in frames])
    mad = np.abs(fast.astype(int) - slow.astype(int)).mean()
    assert mad < 1.0, f"pictures differ: mean absolute difference {mad:.2f} grey levels"

    t_fast = best_of(lambda: renderer.images(frames), args.repeat) / n
    t_slow = best_of(lambda: [render_matplotlib(f) for f in frames], max(1, args.repeat // 2)) / n
    t_orig = best_of(lambda: [original_pipeline(f) for f in frames], max(1, args.repeat // 2)) / n
    print(f"Renderer.images            {1 / t_fast:8.0f} images/s  ({t_fast * 1e3:6.2f} ms/image)")
    print(f"render_matplotlib          {1 / t_slow:8.0f} images/s  ({t_slow * 1e3:6.2f} ms/image)   "
          f"speed-up {t_slow / t_fast:5.1f}x  (goal >= 20)")
    print(f"original pipeline (context){1 / t_orig:8.0f} images/s  ({t_orig * 1e3:6.2f} ms/image)   "
          f"speed-up {t_orig / t_fast:5.1f}x")
    print(f"agreement with matplotlib: mean |difference| {mad:.2f} grey levels of 255")


if __name__ == "__main__":
    main()
