"""How well does the D-MPNN use the machine? Prints ratios measured in one run.

On windows and full frames of the bundled example (real 2D Kob-Andersen,
N = 4320), with the paper's default architecture (hidden 300, depth 3,
attention on, two FFN layers):

1. training throughput (windows of side 12 per second, batch 50, forward +
   backward + Adam step) and its achieved FLOP rate divided by
   ``torch.matmul``'s on the same machine and threads (goal: >= 0.5);
2. full-frame inference (N = 4320, no gradients) as time per frame and as the
   same FLOP ratio (goal: >= 0.6; one 12,960 x 300 x 300 product is the
   unit of work, so the floor is a few such products);
3. featurisation time (freud neighbours -> graph) per window and per frame,
   for scale.

FLOPs are counted for the dense products only (W_i, W_h and the attention's
W_a on every edge at every step, W_o on every node, the FFN), forward = 2 m k n
per product, backward = twice forward; gathers, scatters and the softmax are
not counted, so the ratio is a lower bound on how busy the cores are.

Run: ``python benchmarks/bench_dmpnn.py [--threads 1] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import platform
import time

import gsd.hoomd
import numpy as np
import torch
from torch_geometric.data import Batch

from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.frames import Frame
from mda_glassml.graphs import window
from mda_glassml.models.dmpnn import DMPNN
from mda_glassml.models.featurize import Featurizer


def best_of(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def forward_flops(model: DMPNN, n_nodes: int, n_edges: int, n_graphs: int) -> float:
    c = model.config
    h = c.hidden
    f = 2 * n_edges * (c.node_dim + c.edge_dim) * h  # W_i
    steps = c.depth - 1
    f += steps * 2 * n_edges * h * h  # W_h
    if c.attention:
        f += steps * (2 * n_edges * h * h + 2 * n_edges * h)  # W_a, w_a
    f += 2 * n_nodes * (c.node_dim + h) * h  # W_o
    f += (c.ffn_layers - 1) * 2 * n_graphs * h * (c.ffn_hidden or h) + 2 * n_graphs * h
    return float(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        frames = [Frame.from_gsd(traj[i], frame=i) for i in range(1, len(traj))]
    feat = Featurizer(k=2)
    torch.manual_seed(0)
    model = DMPNN(feat.node_dim, feat.edge_dim, hidden=300, depth=3).to(device)
    rng = np.random.default_rng(0)

    # matmul reference: the product the model does most, at full-frame size.
    a = torch.randn(12960, 300, device=device)
    w = torch.randn(300, 300, device=device)
    t_mm = best_of(lambda: a @ w, args.repeat * 4)
    mm_rate = 2 * 12960 * 300 * 300 / t_mm

    # 1. training throughput on windows of side 12 (about 173 particles).
    wins = [window(frames[i % len(frames)], 12.0, (rng.random(2) - 0.5) * 60) for i in range(50)]
    t0 = time.perf_counter()
    graphs = [feat.graph(w_, label=float(i % 2)) for i, w_ in enumerate(wins)]
    t_feat_window = (time.perf_counter() - t0) / len(wins)
    batch = Batch.from_data_list(graphs).to(device)
    y = batch.y
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()

    def train_step():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(batch), y)
        loss.backward()
        opt.step()

    t_train = best_of(train_step, args.repeat)
    train_flops = 3 * forward_flops(model, batch.num_nodes, batch.num_edges, batch.num_graphs)
    train_ratio = train_flops / t_train / mm_rate

    # 2. full-frame inference.
    t0 = time.perf_counter()
    full = feat.graph(frames[-1])
    t_feat_frame = time.perf_counter() - t0
    fb = Batch.from_data_list([full]).to(device)
    model.eval()

    def infer():
        with torch.no_grad():
            model(fb)

    t_inf = best_of(infer, args.repeat)
    inf_ratio = forward_flops(model, fb.num_nodes, fb.num_edges, 1) / t_inf / mm_rate

    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} thread(s), device {args.device}")
    print(f"torch.matmul 12960x300 @ 300x300: {t_mm * 1e3:.1f} ms = {mm_rate / 1e9:.1f} GFLOP/s")
    print(f"training, batch of 50 windows (side 12, {batch.num_nodes / 50:.0f} particles, "
          f"{batch.num_edges / 50:.0f} directed edges each), hidden 300, depth 3:")
    print(f"  {t_train * 1e3:.1f} ms per batch = {50 / t_train:.0f} windows/s; "
          f"{train_flops / t_train / 1e9:.1f} GFLOP/s; ratio to matmul {train_ratio:.2f} (goal >= 0.5)")
    print(f"full-frame inference, N = {full.num_nodes}, {full.num_edges} directed edges:")
    print(f"  {t_inf * 1e3:.1f} ms per frame; ratio to matmul {inf_ratio:.2f} (goal >= 0.6)")
    print(f"featurisation (freud kNN -> graph): {t_feat_window * 1e3:.2f} ms per window, "
          f"{t_feat_frame * 1e3:.1f} ms per full frame")


if __name__ == "__main__":
    main()
