"""Classification at scale: frames per second at N = 4320, time and peak memory up to 10⁶ particles.

One run measures, for the B-neighbor metrics, the D-MPNN graph alone
(featurisation: k-NN, edge arrays), the D-MPNN (shipped ``ka2d-dmpnn``), the
sliding-window map (D-MPNN, windows of side 12) and the CNN (shipped
``ka2d-cnn``):

- frames per second on the bundled 4320-particle glass;
- wall time and peak resident memory (RSS) of one frame of the glass tiled
  t × t (4320 t² particles, t = 1, 2, 5, 15: up to 972,000), each size in a
  fresh subprocess so that peaks do not mix, watched and killed above
  ``--rss-limit`` GB; the log-log slope of time against N;
- the multiprocessing speed-up of ``GlassClassifier`` on 100 frames
  (the bundled trajectory repeated), 2 workers against serial.

Everything runs on one torch thread (``--threads``). The numbers are
ratios from one run; docs/benchmarks.rst has the measured values.

Run: ``python benchmarks/bench_scale.py [--tiles 1 2 5 15] [--kinds ...] [--mp-frames 100] [--dmpnn MODEL]``
(``--dmpnn``: another D-MPNN bundle, e.g. a model-size study's).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

KINDS = ("metrics", "graph", "dmpnn", "window", "cnn")
WINDOW_SIDE = 12.0


def rss_gb() -> float:
    """Peak RSS of this process so far, GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def tiled_glass(t: int):
    import gsd.hoomd
    import numpy as np

    from mda_glassml.data import EXAMPLE_TRAJECTORY
    from mda_glassml.frames import Frame

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        f = Frame.from_gsd(traj[-1])
    if t == 1:
        return f
    side = float(f.box.Lx)
    shifts = np.array([(i, j) for i in range(t) for j in range(t)], dtype=np.float64) * side
    pos = (f.positions[None].astype(np.float64) + shifts[:, None]).reshape(-1, 2)
    names = np.tile(np.array(f.type_names)[f.types], t * t)
    return Frame.from_arrays(pos, names, box=[side * t, side * t])


def operation(kind: str, dmpnn: str = "ka2d-dmpnn"):
    """The measured operation on one frame, and what it needs built first."""
    from mda_glassml.classify import Classifier

    if kind == "metrics":
        from mda_glassml.metrics import b_neighbor_metrics

        return lambda frame: b_neighbor_metrics(frame)
    if kind == "graph":
        from mda_glassml.models.tiled import TiledGraph

        feat = Classifier(dmpnn).bundle.featurizer
        return lambda frame: TiledGraph.from_frame(feat, frame)
    if kind == "window":
        clf = Classifier(dmpnn)
        return lambda frame: clf.window_map(frame, WINDOW_SIDE)
    clf = Classifier("ka2d-cnn" if kind == "cnn" else dmpnn)
    return lambda frame: clf.probabilities([frame])


def child(kind: str, t: int, repeat: int, dmpnn: str) -> None:
    import torch

    torch.set_num_threads(1)
    run = operation(kind, dmpnn)
    frame = tiled_glass(t)
    before = rss_gb()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run(frame)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"kind": kind, "n": frame.n_particles, "seconds": min(times), "rss_before_gb": before,
                      "peak_rss_gb": rss_gb()}))


def watched(args: list[str], limit_gb: float) -> dict | None:
    """Run this script as a subprocess, killing it if its RSS passes ``limit_gb``."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    status = f"/proc/{proc.pid}/status"
    while proc.poll() is None:
        try:
            with open(status) as fh:
                rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 2**20
        except (OSError, StopIteration):
            rss = 0.0
        if rss > limit_gb:
            proc.kill()
            print(f"  killed {args}: RSS {rss:.1f} GB > {limit_gb} GB", file=sys.stderr)
            return None
        time.sleep(0.2)
    out = proc.stdout.read().strip().splitlines()
    return json.loads(out[-1]) if proc.returncode == 0 and out else None


def multiprocessing_speedup(n_frames: int, workers: int, dmpnn: str) -> tuple[float, float]:
    import MDAnalysis as mda
    import torch

    from mda_glassml.analysis import GlassClassifier
    from mda_glassml.data import EXAMPLE_TRAJECTORY

    torch.set_num_threads(1)
    n_traj = len(mda.Universe(EXAMPLE_TRAJECTORY).trajectory)
    u = mda.Universe(EXAMPLE_TRAJECTORY, [EXAMPLE_TRAJECTORY] * math.ceil(n_frames / n_traj))
    times = {}
    for backend in ("serial", "multiprocessing"):
        kw = {} if backend == "serial" else {"backend": backend, "n_workers": workers}
        t0 = time.perf_counter()
        GlassClassifier(u.atoms, model=dmpnn).run(stop=n_frames, **kw)
        times[backend] = time.perf_counter() - t0
    return n_frames / times["serial"], times["serial"] / times["multiprocessing"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[1, 2, 5, 15])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--window-max-tiles", type=int, default=5,
                        help="largest t for the sliding-window map (its cost is 4x the D-MPNN's)")
    parser.add_argument("--rss-limit", type=float, default=8.0, help="kill a size whose RSS passes this (GB)")
    parser.add_argument("--mp-frames", type=int, default=100, help="frames of the multiprocessing row (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dmpnn", default="ka2d-dmpnn",
                        help="the D-MPNN measured: a shipped name or a bundle path (default ka2d-dmpnn)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, t, repeat, dmpnn = args.child
        return child(kind, int(t), int(repeat), dmpnn)
    print(f"D-MPNN: {args.dmpnn}\nkind      particles   seconds   frames/s   peak RSS GB (frame built)")
    for kind in args.kinds:
        rows = []
        for t in args.tiles:
            if kind == "window" and t > args.window_max_tiles:
                continue
            row = watched(["--child", kind, str(t), "3" if t == 1 else "1", args.dmpnn], args.rss_limit)
            if row is None:
                print(f"{kind:8s} {4320 * t * t:10d}   failed or killed")
                continue
            rows.append(row)
            print(f"{kind:8s} {row['n']:10d} {row['seconds']:9.3f} {1 / row['seconds']:10.2f}   "
                  f"{row['peak_rss_gb']:.2f} ({row['rss_before_gb']:.2f})", flush=True)
        if len(rows) >= 2:
            a, b = rows[0], rows[-1]
            slope = math.log(b["seconds"] / a["seconds"]) / math.log(b["n"] / a["n"])
            print(f"{kind:8s} log-log slope of time, {a['n']} -> {b['n']}: {slope:.3f}", flush=True)
    if args.mp_frames:
        fps, speedup = multiprocessing_speedup(args.mp_frames, args.workers, args.dmpnn)
        print(f"GlassClassifier, {args.mp_frames} frames: serial {fps:.2f} frames/s; multiprocessing with "
              f"{args.workers} workers {speedup:.2f}x faster")


if __name__ == "__main__":
    main()
