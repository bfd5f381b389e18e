"""``classify`` speed: frames per second per model and backend, against reading alone.

On the bundled trajectory (21 frames of N = 4320), for each shipped model
(or ``--model`` bundles) and each backend: frames per second of
:class:`~mda_glassml.analysis.GlassClassifier` (or ``CNNClassifier``), and
the ratio of its time to the time MDAnalysis needs just to read the same
frames (the floor of any per-frame analysis). Workers use one torch thread
each; serial runs use ``--threads``.

Run: ``python benchmarks/bench_classify.py [--threads 1] [--workers 2] [--model ...]``.
"""

from __future__ import annotations

import argparse
import time

import MDAnalysis as mda
import torch

from mda_glassml.analysis import CNNClassifier, GlassClassifier
from mda_glassml.data import EXAMPLE_TRAJECTORY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", action="append", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    u = mda.Universe(EXAMPLE_TRAJECTORY)
    n = len(u.trajectory)
    t0 = time.perf_counter()
    for ts in u.trajectory:
        u.atoms.positions  # noqa: B018 - reading is what is timed
    t_read = time.perf_counter() - t0
    print(f"{n} frames of {len(u.atoms)} particles; MDAnalysis reads them in {t_read * 1e3:.1f} ms "
          f"({n / t_read:.0f} frames/s); torch {torch.__version__}, {args.threads} thread(s) in serial runs")
    for model in args.model or ["ka2d-dmpnn", "ka2d-cnn"]:
        cls = CNNClassifier if "cnn" in model else GlassClassifier
        for backend in ("serial", "multiprocessing", "dask"):
            kw = {} if backend == "serial" else {"backend": backend, "n_workers": args.workers}
            analysis = cls(u.atoms, model=model)
            t0 = time.perf_counter()
            analysis.run(**kw)
            t = time.perf_counter() - t0
            label = backend if backend == "serial" else f"{backend} ({args.workers} workers)"
            print(f"  {model:12s} {label:28s} {n / t:7.2f} frames/s   {t / t_read:7.1f} x reading time")


if __name__ == "__main__":
    main()
