"""Classification at scale: frames per second at N = 4320, time and peak memory up to 10⁶ particles.

One run measures, for the B-neighbor metrics, the D-MPNN graph alone
(featurisation: k-NN, edge arrays), the D-MPNN (shipped ``ka2d-dmpnn``), the
sliding-window map (D-MPNN, windows of side 12) and the CNN (shipped
``ka2d-cnn``):

- frames per second on the bundled 4320-particle glass;
- wall time and peak resident memory (RSS) of one frame of the glass tiled
  t × t (4320 t² particles, t = 1, 2, 5, 15: up to 972,000), each size in a
  fresh subprocess so that peaks do not mix, watched and killed above
  ``--rss-limit`` GB; the log-log slope of time against N (end points
  and a least-squares fit over every size). Every size is timed the same
  way: one untimed call (its time is printed too: with ``--compile`` it
  holds the compilation), then the best of ``--repeat`` calls;
- the multiprocessing speed-up of ``GlassClassifier`` on 100 frames
  (the bundled trajectory repeated), 2 workers against serial, beside the
  machine's ceiling: 2 independent serial runs of 50 frames at once against
  one alone (no start-up, nothing to gather: only the cores slowing each
  other down).

Everything runs on one thread (torch and freud). The numbers are
ratios from one run; docs/benchmarks.rst has the measured values.

Run: ``python benchmarks/bench_scale.py [--tiles 1 2 5 15] [--kinds ...] [--mp-frames 100] [--dmpnn MODEL]
[--compile]`` (``--dmpnn``: another D-MPNN bundle, e.g. a model-size study's; ``--compile``: the models
through ``torch.compile``, compiled in the untimed first call; instead of the multiprocessing row, serial
``GlassClassifier`` frames/s eager and compiled, where frames go 8 to a batch).
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
import warnings

import numpy as np

KINDS = ("metrics", "graph", "dmpnn", "window", "cnn")
WINDOW_SIDE = 12.0


def rss_gb() -> float:
    """Peak RSS of this process so far, GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def tiled_glass(t: int):
    import gsd.hoomd

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


def operation(kind: str, dmpnn: str = "ka2d-dmpnn", compile: bool = False):
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
        clf = Classifier(dmpnn, compile=compile)
        return lambda frame: clf.window_map(frame, WINDOW_SIDE)
    clf = Classifier("ka2d-cnn" if kind == "cnn" else dmpnn, compile=compile)
    return lambda frame: clf.probabilities([frame])


def child(kind: str, t: int, repeat: int, dmpnn: str, compile: bool) -> None:
    import freud
    import torch

    torch.set_num_threads(1)
    freud.parallel.set_num_threads(1)  # its TBB pool would otherwise take every core
    run = operation(kind, dmpnn, compile)
    frame = tiled_glass(t)
    before = rss_gb()
    # One untimed call first at every size: the first pays one-off costs (lazy imports, torch's first
    # kernels, the allocator's first pages, compiling); timing it only at the large sizes would tilt the slope.
    t0 = time.perf_counter()
    run(frame)
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run(frame)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"kind": kind, "n": frame.n_particles, "seconds": min(times), "first_seconds": first,
                      "rss_before_gb": before, "peak_rss_gb": rss_gb()}))


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


def _chained(n_frames: int):
    import MDAnalysis as mda

    from mda_glassml.data import EXAMPLE_TRAJECTORY

    n_traj = len(mda.Universe(EXAMPLE_TRAJECTORY).trajectory)
    return mda.Universe(EXAMPLE_TRAJECTORY, [EXAMPLE_TRAJECTORY] * math.ceil(n_frames / n_traj))


def multiprocessing_speedup(n_frames: int, workers: int, dmpnn: str) -> tuple[float, float]:
    import freud
    import torch

    from mda_glassml.analysis import GlassClassifier

    torch.set_num_threads(1)
    # One thread here too, as the workers have it (GlassClassifier sets it in each): with freud's TBB pool
    # on every core the serial baseline ran its neighbour searches on both cores (28 frames/s against 24).
    freud.parallel.set_num_threads(1)
    u = _chained(n_frames)
    times = {}
    for backend in ("serial", "multiprocessing"):
        kw = {} if backend == "serial" else {"backend": backend, "n_workers": workers}
        t0 = time.perf_counter()
        GlassClassifier(u.atoms, model=dmpnn).run(stop=n_frames, **kw)
        times[backend] = time.perf_counter() - t0
    return n_frames / times["serial"], times["serial"] / times["multiprocessing"]


def serial_rates(n_frames: int, dmpnn: str) -> dict[str, float]:
    """Serial ``GlassClassifier`` frames/s on ``n_frames`` (batches of 8), eager and compiled, each after a warm-up."""
    import freud
    import torch

    from mda_glassml.analysis import GlassClassifier

    torch.set_num_threads(1)
    freud.parallel.set_num_threads(1)
    u = _chained(n_frames)
    rates = {}
    for compile in (False, True):
        GlassClassifier(u.atoms, model=dmpnn, compile=compile).run(stop=8)  # compiles, for the compiled one
        t0 = time.perf_counter()
        GlassClassifier(u.atoms, model=dmpnn, compile=compile).run(stop=n_frames)
        rates["compiled" if compile else "eager"] = n_frames / (time.perf_counter() - t0)
    return rates


def serial_share(n_frames: int, dmpnn: str) -> None:
    """Child: a serial GlassClassifier run of ``n_frames`` (after a warm-up), its seconds as JSON."""
    import freud
    import torch

    from mda_glassml.analysis import GlassClassifier

    torch.set_num_threads(1)
    freud.parallel.set_num_threads(1)
    u = _chained(n_frames)
    GlassClassifier(u.atoms, model=dmpnn).run(stop=2)
    t0 = time.perf_counter()
    GlassClassifier(u.atoms, model=dmpnn).run(stop=n_frames)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def machine_ceiling(n_frames: int, workers: int, dmpnn: str) -> float:
    """The speed-up ``workers`` independent processes reach here: ``workers`` serial runs of an equal share at once.

    No start-up, no results to gather: what is left is how much the cores slow each other down (shared
    caches and memory bandwidth; on a VM, whatever the host shares), the ceiling of any backend.
    """
    share = max(1, n_frames // workers)
    args = [sys.executable, __file__, "--serial-share", str(share), dmpnn]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def seconds(procs: list) -> list[float]:
        return [json.loads(p.communicate()[0].strip().splitlines()[-1])["seconds"] for p in procs]

    alone = seconds([subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)])[0]
    together = seconds([subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env) for _ in range(workers)])
    return workers * alone / max(together)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[1, 2, 5, 15])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--window-max-tiles", type=int, default=5,
                        help="largest t for the sliding-window map (its cost is 4x the D-MPNN's)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed calls per size after one untimed call; the best is reported (default 3)")
    parser.add_argument("--rss-limit", type=float, default=8.0, help="kill a size whose RSS passes this (GB)")
    parser.add_argument("--mp-frames", type=int, default=100, help="frames of the multiprocessing row (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dmpnn", default="ka2d-dmpnn",
                        help="the D-MPNN measured: a shipped name or a bundle path (default ka2d-dmpnn)")
    parser.add_argument("--compile", action="store_true",
                        help="the models through torch.compile (Classifier(compile=True)); the untimed first "
                             "call compiles")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--serial-share", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # GSD files carry no time step and MDAnalysis says so in every process (workers too): dozens of lines
    # around the table. PYTHONWARNINGS reaches the worker and child processes.
    os.environ["PYTHONWARNINGS"] = "ignore:Reader has no dt information"
    warnings.filterwarnings("ignore", message="Reader has no dt information")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.serial_share:
        return serial_share(int(args.serial_share[0]), args.serial_share[1])
    if args.child:
        kind, t, repeat, dmpnn, compile = args.child
        return child(kind, int(t), int(repeat), dmpnn, compile == "1")
    print(f"D-MPNN: {args.dmpnn}{', compiled' if args.compile else ''}")
    print("kind      particles   seconds   frames/s   peak RSS GB (frame built)   first call s")
    for kind in args.kinds:
        rows = []
        for t in args.tiles:
            if kind == "window" and t > args.window_max_tiles:
                continue
            row = watched(["--child", kind, str(t), str(args.repeat), args.dmpnn, str(int(args.compile))],
                          args.rss_limit)
            if row is None:
                print(f"{kind:8s} {4320 * t * t:10d}   failed or killed")
                continue
            rows.append(row)
            print(f"{kind:8s} {row['n']:10d} {row['seconds']:9.3f} {1 / row['seconds']:10.2f}   "
                  f"{row['peak_rss_gb']:.2f} ({row['rss_before_gb']:.2f})   {row['first_seconds']:16.3f}", flush=True)
        if len(rows) >= 2:
            a, b = rows[0], rows[-1]
            slope = math.log(b["seconds"] / a["seconds"]) / math.log(b["n"] / a["n"])
            fit = np.polyfit(np.log([r["n"] for r in rows]), np.log([r["seconds"] for r in rows]), 1)[0]
            print(f"{kind:8s} log-log slope of time, {a['n']} -> {b['n']}: {slope:.3f} (end points), "
                  f"{fit:.3f} (least squares over {len(rows)} sizes)", flush=True)
    if args.mp_frames and args.compile:
        rates = serial_rates(args.mp_frames, args.dmpnn)
        print(f"GlassClassifier, {args.mp_frames} frames in batches of 8, serial: eager {rates['eager']:.2f} frames/s, "
              f"compiled {rates['compiled']:.2f} frames/s", flush=True)
    elif args.mp_frames:
        fps, speedup = multiprocessing_speedup(args.mp_frames, args.workers, args.dmpnn)
        ceiling = machine_ceiling(args.mp_frames, args.workers, args.dmpnn)
        print(f"GlassClassifier, {args.mp_frames} frames: serial {fps:.2f} frames/s; multiprocessing with "
              f"{args.workers} workers {speedup:.2f}x faster; {args.workers} independent serial runs of "
              f"{args.mp_frames // args.workers} frames at once: {ceiling:.2f}x (this machine's ceiling)")


if __name__ == "__main__":
    main()
