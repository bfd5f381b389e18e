"""D-MPNN inference cost against hidden size, for the model-size study (AUCs to be added).

Untrained models of the shipped architecture (its featuriser, depth,
readout, attention) with ``hidden`` = 300 (shipped), 128, 64, 32: frames per
second on the bundled 4320-particle frames, one thread, batches of
``--batch-size`` frames, and the ratio to the shipped size. The weights do
not change the cost, so these are the costs of the retrained smaller models;
the study that retrains them only has to add their held-out AUCs.

Run: ``python benchmarks/bench_model_size.py [--hidden 300 128 64 32] [--threads 1] [--model MODEL]``.
"""

from __future__ import annotations

import argparse
import time

import gsd.hoomd
import torch
from torch_geometric.data import Batch

from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.frames import Frame
from mda_glassml.models.dmpnn import DMPNN
from mda_glassml.models.pretrained import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[300, 128, 64, 32])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="ka2d-dmpnn",
                        help="whose featuriser and architecture (a shipped name or a bundle path)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shipped = load_model(args.model)
    feat, cfg = shipped.featurizer, shipped.model.config.to_dict()
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        frames = [Frame.from_gsd(traj[i]) for i in range(args.batch_size)]
    t0 = time.perf_counter()
    batch = Batch.from_data_list([feat.graph(f) for f in frames])
    t_graph = (time.perf_counter() - t0) / len(frames)
    print(f"graphs: {t_graph * 1e3:.1f} ms a frame ({batch.num_edges // len(frames)} edges); "
          f"{args.threads} thread(s)")
    base = None
    for hidden in args.hidden:
        arch = {k: v for k, v in cfg.items() if k not in ("node_dim", "edge_dim", "hidden", "ffn_hidden")}
        model = DMPNN(feat.node_dim, feat.edge_dim, hidden=hidden, **arch).eval()
        with torch.inference_mode():
            model(batch)
            best = min(_timed(model, batch) for _ in range(args.repeat)) / len(frames)
        base = base or best
        fps = 1 / (best + t_graph)
        print(f"hidden {hidden:4d}: model {best * 1e3:7.1f} ms a frame, {fps:6.1f} frames/s with the graph, "
              f"{base / best:5.1f}x the speed of hidden {args.hidden[0]}")


def _timed(model, batch) -> float:
    t0 = time.perf_counter()
    model(batch)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
