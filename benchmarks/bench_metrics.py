"""How fast are the B-neighbor metrics? Prints ratios measured in one run.

Compares, on the same 4320-particle frames:

1. mda_glassml's metrics against what a user would write by hand
   (scipy's periodic cKDTree + networkx); goal: at least 4x faster;
2. mda_glassml's metrics against freud's neighbour query alone (the floor:
   everything after the search should be nearly free); goal: at most 1.5;
3. one frame of about a million particles; goal: under 3 s on one core.

Everything runs on one thread (freud's TBB pool is set to 1) so the numbers
compare like with like. Run: ``python benchmarks/bench_metrics.py [--repeat N]``.
Frames: the bundled example trajectory (real 2D Kob-Andersen, LAMMPS);
the large frame tiles its glass 15 x 15 (972,000 particles).
"""

from __future__ import annotations

import argparse
import platform
import time

import freud
import gsd.hoomd
import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.frames import Frame
from mda_glassml.metrics import b_neighbor_metrics


def by_hand(positions: np.ndarray, is_b: np.ndarray, side: float, k: int = 2):
    """The obvious user code: periodic cKDTree for k-NN, networkx for components."""
    tree = cKDTree(positions % side, boxsize=side)
    _, nbrs = tree.query(positions % side, k=k + 1)
    g = nx.Graph()
    for i, row in enumerate(nbrs):
        for j in row[1:]:
            if is_b[i] or is_b[j]:
                g.add_edge(i, int(j))
    n_bb = sum(1 for i, j in g.edges if is_b[i] and is_b[j])
    isolated_a = int(np.sum(~is_b)) - sum(1 for i in g.nodes if not is_b[i])
    return nx.number_connected_components(g), n_bb, isolated_a


def freud_query_only(frame: Frame, k: int = 2):
    """freud's k-NN query alone, tuned as well as mda_glassml tunes it (the floor)."""
    points = frame.points3d
    nq = freud.locality.AABBQuery(frame.box, points)
    r_guess = 1.2 * np.sqrt((k + 1) / (np.pi * frame.n_particles / frame.area))
    args = dict(num_neighbors=k, exclude_ii=True, r_guess=r_guess)
    return nq.query(points, args).toNeighborList(sort_by_distance=True)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timings per frame; the best is kept")
    args = parser.parse_args()
    freud.parallel.set_num_threads(1)

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        frames = [Frame.from_gsd(traj[i], frame=i) for i in range(len(traj))]
    print(f"machine: {platform.processor() or platform.machine()}, freud {freud.__version__}, 1 thread")
    print(f"frames: {len(frames)} x {frames[0].n_particles} particles (bundled example)")

    ours, hand, query = [], [], []
    for f in frames:
        pos = f.positions.astype(np.float64)
        side = f.box.Lx
        m = b_neighbor_metrics(f)
        assert by_hand(pos, f.is_b, side) == (m.n_components, m.n_bb_edges, m.n_isolated_a), "results differ"
        ours.append(best_of(lambda: b_neighbor_metrics(f), args.repeat))
        query.append(best_of(lambda: freud_query_only(f), args.repeat))
        hand.append(best_of(lambda: by_hand(pos, f.is_b, side), max(1, args.repeat // 2)))
    ours, hand, query = map(np.median, (ours, hand, query))
    print(f"metrics (mda_glassml)      {ours * 1e3:8.2f} ms/frame")
    print(f"cKDTree + networkx by hand {hand * 1e3:8.2f} ms/frame   speed-up {hand / ours:5.1f}x  (goal >= 4)")
    print(f"freud neighbour query only {query * 1e3:8.2f} ms/frame   metrics/query {ours / query:5.2f}  (goal <= 1.5)")

    glass = frames[-1]
    tiles = 15
    L = glass.box.Lx
    shifts = np.array([[i * L, j * L] for i in range(tiles) for j in range(tiles)])
    big_pos = (glass.positions[None, :, :] + shifts[:, None, :]).reshape(-1, 2)
    big_types = np.tile(np.where(glass.is_b, "B", "A"), tiles * tiles)
    big = Frame.from_arrays(big_pos, big_types, [tiles * L, tiles * L])
    t = time.perf_counter()
    m = b_neighbor_metrics(big)
    big_time = time.perf_counter() - t
    print(f"one frame of {big.n_particles:,} particles: {big_time:.2f} s on one core (goal < 3 s); "
          f"{m.n_components} components")


if __name__ == "__main__":
    main()
