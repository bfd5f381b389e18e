"""D-MPNN inference cost against hidden size, beside the held-out scores of models of each size.

Two uses:

- ``--bundles A.pt B.pt ...``: trained models of the model-size study (the
  same recipe, data and seeds, only ``hidden`` changed: ``training.recipes
  --models ka2d-dmpnn --hidden H``). Per model: the model's time a frame on
  the bundled 4320-particle frames (one thread, batches of ``--batch-size``),
  frames per second with the graph, and from its card the validation AUC
  (what a choice may use) and the held-out scores (reported, never chosen
  on): Tg-labelled thermal and inherent-structure AUC, ECE, where P(glass)
  crosses 0.5 along the held-out runs against their Tg.
- without ``--bundles``: untrained models of the shipped architecture with
  ``--hidden`` = 300, 128, 64, 32 (the weights do not change the cost).

The graph is built once (the same featuriser for every size); every model
runs on the same batch, interleaved over ``--repeat`` rounds, best time kept.

Run: ``python benchmarks/bench_model_size.py [--bundles ...] [--hidden 300 128 64 32] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import json
import time

import freud
import gsd.hoomd
import torch
from torch_geometric.data import Batch

from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.frames import Frame
from mda_glassml.models.dmpnn import DMPNN
from mda_glassml.models.pretrained import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", nargs="+", help="trained D-MPNN bundles (.pt) of one recipe, any hidden size")
    parser.add_argument("--hidden", type=int, nargs="+", default=[300, 128, 64, 32])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--model", default="ka2d-dmpnn",
                        help="without --bundles: whose featuriser and architecture (a shipped name or a bundle)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    freud.parallel.set_num_threads(args.threads)
    if args.bundles:
        bundles = [load_model(path) for path in args.bundles]
        feats = {json.dumps(b.featurizer.to_dict(), sort_keys=True) for b in bundles}
        if len(feats) > 1:
            raise SystemExit("these bundles featurise differently: a size study compares one recipe's models.")
        feat = bundles[0].featurizer
        models = {f"hidden {b.model.config.hidden}": b.model.eval() for b in bundles}
    else:
        bundles = []
        shipped = load_model(args.model)
        feat, cfg = shipped.featurizer, shipped.model.config.to_dict()
        arch = {k: v for k, v in cfg.items() if k not in ("node_dim", "edge_dim", "hidden", "ffn_hidden")}
        models = {f"hidden {h}": DMPNN(feat.node_dim, feat.edge_dim, hidden=h, **arch).eval() for h in args.hidden}
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        frames = [Frame.from_gsd(traj[i]) for i in range(args.batch_size)]
    t0 = time.perf_counter()
    batch = Batch.from_data_list([feat.graph(f) for f in frames])
    t_graph = (time.perf_counter() - t0) / len(frames)
    print(f"graphs: {t_graph * 1e3:.1f} ms a frame ({batch.num_edges // len(frames)} edges); "
          f"{args.threads} thread(s)")
    best = {name: float("inf") for name in models}
    with torch.inference_mode():
        for model in models.values():
            model(batch)
        for _ in range(args.repeat):
            for name, model in models.items():
                t0 = time.perf_counter()
                model(batch)
                best[name] = min(best[name], (time.perf_counter() - t0) / len(frames))
    base = max(best.values())
    for i, (name, t) in enumerate(best.items()):
        line = (f"{name:>11s}: model {t * 1e3:7.1f} ms a frame, {1 / (t + t_graph):6.1f} frames/s with the graph, "
                f"{base / t:5.1f}x the speed of the slowest")
        if bundles:
            line += "\n" + _scores(bundles[i].card)
        print(line)


def _scores(card: dict) -> str:
    """The card's validation AUC and held-out scores, one line."""
    val = card.get("scores", {}).get("validation_auc", float("nan"))
    held = card.get("heldout", {})
    sets = held.get("sets", {})
    thermal, inherent = sets.get("tg_thermal", {}), sets.get("tg_is", {})
    crossing = held.get("crossing", {})
    rel = card.get("heldout_reliability", {})
    nan = float("nan")
    return (f"             validation AUC {val:.3f} | held out: thermal AUC {thermal.get('auc', nan):.3f}, "
            f"inherent AUC {inherent.get('auc', nan):.3f} (IS energy alone "
            f"{inherent.get('baselines', {}).get('is_energy', nan):.3f}), ECE {rel.get('ece', nan):.3f}, "
            f"crossing {crossing.get('thermal', {}).get('pooled', nan):.3f} / inherent "
            f"{crossing.get('inherent', {}).get('pooled', nan):.3f} vs Tg {crossing.get('tg', nan):.3f}")


if __name__ == "__main__":
    main()
