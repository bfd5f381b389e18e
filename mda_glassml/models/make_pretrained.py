"""Make the shipped models and the held-out set from two campaigns, with fixed seeds.

Usage (after the two campaigns of ``docs/pretrained.rst``)::

    python -m mda_glassml.models.make_pretrained --cooling fast4320 --liquids liquids4320 [--out DIR]

1. builds datasets 1-6 and their inherent-structure twins
   (:func:`mda_glassml.simulation.datasets.build_datasets`);
2. holds out a fixed 25 % of the trajectories of each campaign (grouped and
   stratified by campaign, seed 2026; :func:`heldout_trajectories`), drawn
   from the trajectory names before anything is trained and written out
   first: nothing of them is used for training, model selection or any
   choice of the recipe (balance, epochs, hyperparameters);
3. trains on the rest, split 85/15 by trajectory into train/validation, on
   datasets 1-6 together (every liquid against the T = 0.05 glass of its
   trajectory, so the classes are balanced):

   - ``ka2d-dmpnn``: invariant D-MPNN (k = 2, RBF distances, hidden 300,
     depth 3, mean readout so that whole frames are as in training) on random
     windows of side 12;
   - ``ka2d-cnn``: the compact CNN on 250 × 250 images of whole frames;
4. scores each model on the held-out trajectories of every dataset (whole
   frames, as :class:`~mda_glassml.classify.Classifier` sees them), writes
   the bundles and their cards (JSON) into ``mda_glassml/data/models/`` and
   the held-out configurations into ``mda_glassml/data/heldout/`` (a GSD and a
   manifest naming each configuration's datasets), so that a test can check
   that the shipped models still reach the recorded AUCs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..baselines import BASELINES, potential_energy
from ..frames import Frame
from ..training.crossval import cnn_builder, dmpnn_builder
from ..training.data import LabelledFrames, group_split
from ..training.loop import TrainConfig, fit, predict_logits, scores

__all__ = ["main", "HELDOUT_GSD", "HELDOUT_MANIFEST", "heldout_sets", "score_on_heldout", "baseline_scores",
           "is_energy_baseline", "heldout_trajectories"]

_DATA = Path(__file__).resolve().parent.parent / "data"
HELDOUT_GSD = _DATA / "heldout" / "ka2d_heldout.gsd"
HELDOUT_MANIFEST = _DATA / "heldout" / "ka2d_heldout.csv"
SEED = 2026

SPECS: dict[str, dict[str, Any]] = {
    "ka2d-dmpnn": {"builder": "dmpnn", "epochs": 20,
                   "params": {"k": 2, "window": 0.2, "hidden": 300, "depth": 3, "dropout": 0.0,
                              "ffn_layers": 2, "batch_size": 25},
                   "options": {"mode": "invariant", "n_rbf": 16, "readout": "mean", "windows_per_frame": 8}},
    "ka2d-cnn": {"builder": "cnn", "epochs": 60, "params": {"dropout": 0.2, "batch_size": 10},
                 "options": {"variant": "compact", "image_size": 250}},
}


def _load(manifests: Path, name: str) -> LabelledFrames:
    return LabelledFrames.from_manifest(manifests / f"{name}.csv")


def _concat(parts: list[LabelledFrames]) -> LabelledFrames:
    return LabelledFrames(sum((p.frames for p in parts), []), np.concatenate([p.labels for p in parts]),
                          np.concatenate([p.groups for p in parts]), np.concatenate([p.temperatures for p in parts]))


def heldout_sets(gsd_path: Path = HELDOUT_GSD, manifest: Path = HELDOUT_MANIFEST) -> dict[str, LabelledFrames]:
    """The packaged held-out configurations, one :class:`LabelledFrames` per dataset name."""
    import gsd.hoomd  # noqa: PLC0415

    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh))
    with gsd.hoomd.open(str(gsd_path), "r") as traj:
        frames = [Frame.from_gsd(traj[int(r["frame"])], frame=int(r["frame"])) for r in rows]
    out: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        for name in r["datasets"].split():
            out.setdefault(name, []).append(i)
    data = LabelledFrames(frames, [int(r["label"]) for r in rows], [r["trajectory"] for r in rows],
                          [float(r["temperature"]) for r in rows])
    return {name: data.subset(idx) for name, idx in out.items()}


def score_on_heldout(model: Any, sets: dict[str, LabelledFrames]) -> dict[str, dict[str, float]]:
    """AUC and accuracy of a loaded bundle's model on each held-out dataset (whole frames)."""
    from ..classify import Classifier  # noqa: PLC0415

    clf = Classifier(model)
    out = {}
    for name, data in sorted(sets.items()):
        logits = clf.logits(data.frames)
        auc, acc = scores(data.labels, logits)
        out[name] = {"auc": auc, "accuracy": acc, "n": len(data)}
    return out


def baseline_scores(sets: dict[str, LabelledFrames]) -> dict[str, dict[str, float]]:
    """The no-ML baseline on the same sets: AUC of the B–B edge count alone (fewer edges = glass).

    Reported beside each model's scores, as the design notes ask: on thermal
    frames this count alone separates liquid from glass.
    """
    out = {}
    for name, data in sorted(sets.items()):
        score = -np.array([BASELINES["bb_edges"](f) for f in data.frames], dtype=float)
        auc, _ = scores(data.labels, score - np.median(score))
        out[name] = {"auc": auc, "n": len(data)}
    return out


def is_energy_baseline(sets: dict[str, LabelledFrames]) -> dict[str, dict[str, float]]:
    """The IS-energy baseline on the inherent-structure sets: AUC of the energy alone (lower = glass).

    The thermodynamic no-ML baseline beside :func:`baseline_scores`: on
    inherent structures of datasets 1-5 the glasses sit lower in energy.
    """
    out = {}
    for name, data in sorted(sets.items()):
        if name.endswith("_is"):
            auc, _ = scores(data.labels, -np.array([potential_energy(f) for f in data.frames]))
            out[name] = {"auc": auc, "n": len(data)}
    return out


def heldout_trajectories(groups: Any, fraction: float = 0.25, seed: int = SEED) -> set[str]:
    """The held-out trajectories: ``fraction`` of each campaign's, drawn before anything is trained.

    Groups are ``"campaign/trajectory"``; the split is grouped and
    stratified by campaign (each campaign gives its own share), seeded.
    """
    groups = np.unique(np.asarray(groups, dtype=str))
    campaign = np.array([g.rsplit("/", 1)[0] if "/" in g else "" for g in groups])
    out: set[str] = set()
    for c in np.unique(campaign):
        mine = groups[campaign == c]
        n_out = int(round(fraction * mine.size))
        order = np.random.default_rng([seed, *map(ord, c)]).permutation(mine.size)
        out |= set(mine[order[:n_out]].tolist())
    return out


def _write_heldout(sets: dict[str, LabelledFrames], folder: Path) -> None:
    import gsd.hoomd  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    index: dict[tuple, int] = {}
    frames, rows = [], []
    for name, data in sorted(sets.items()):
        for f, y, g, t in zip(data.frames, data.labels, data.groups, data.temperatures):
            key = (g, round(float(t), 5), int(y), name.endswith("_is"))
            if key not in index:
                index[key] = len(frames)
                frames.append(f)
                rows.append({"frame": len(rows), "label": int(y), "temperature": float(t), "trajectory": g,
                             "inherent": int(key[3]), "datasets": []})
            rows[index[key]]["datasets"].append(name)
    tmp = folder / ".heldout.gsd.part"
    with gsd.hoomd.open(str(tmp), "w") as traj:
        for f in frames:
            snap = gsd.hoomd.Frame()
            snap.configuration.dimensions = 2
            snap.configuration.box = [f.box.Lx, f.box.Ly, 0, 0, 0, 0]
            snap.particles.N = f.n_particles
            snap.particles.types = ["A", "B"]
            snap.particles.typeid = f.types.astype(np.uint32)
            snap.particles.position = f.points3d.astype(np.float32)
            traj.append(snap)
    os.chmod(tmp, 0o644)  # gsd creates files readable by their owner only
    os.replace(tmp, folder / HELDOUT_GSD.name)
    with open(folder / HELDOUT_MANIFEST.name, "w", newline="") as fh:
        w = csv.DictWriter(fh, ["frame", "label", "temperature", "trajectory", "inherent", "datasets"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "datasets": " ".join(r["datasets"])})


def main(argv: list[str] | None = None) -> int:
    from ..models.bundle import load_bundle, save_bundle  # noqa: PLC0415
    from ..simulation.datasets import build_datasets  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m mda_glassml.models.make_pretrained", description=__doc__)
    parser.add_argument("--cooling", required=True, help="fast-rate cooling campaign (records: datasets preset)")
    parser.add_argument("--liquids", required=True, help="equilibrium liquids at T = 0.547 (dataset 6)")
    parser.add_argument("--out", default=str(_DATA), help="where models/ and heldout/ go (default: the package)")
    parser.add_argument("--models", default="ka2d-dmpnn,ka2d-cnn", help="which models to train")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="multiply every model's epochs (tests)")
    parser.add_argument("--work", default=None, help="folder for manifests and checkpoints (default: temporary)")
    parser.add_argument("--sigmas", type=float, default=2.0, help="dataset 6 energy-match tolerance (standard errors)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    work = Path(args.work or tempfile.mkdtemp(prefix="mda_glassml_pretrained_"))
    manifests = work / "datasets"
    summary = build_datasets(manifests, cooling=args.cooling, liquids=args.liquids, sigmas=args.sigmas)
    names = sorted(summary["datasets"])
    all_sets = {name: _load(manifests, name) for name in names}

    # The hold-out comes first, from the trajectory names alone, stratified by campaign, and is
    # written out before any training: no choice below may look at it.
    keep_out = heldout_trajectories(np.concatenate([d.groups for d in all_sets.values()]))
    heldout = {n: d.subset(np.flatnonzero(np.isin(d.groups, list(keep_out)))) for n, d in all_sets.items()}
    # Datasets 1-6 as they are: each is balanced, so a trajectory's glass appears once per
    # liquid it is paired with (fresh windows / rotations each time). Measured: with each glass
    # once (one glass per five liquids) the models predicted "liquid" for every held-out glass.
    train_all = _concat([d.subset(np.flatnonzero(~np.isin(d.groups, list(keep_out))))
                         for n, d in all_sets.items() if not n.endswith("_is")])
    tr, va = group_split(train_all.groups, (0.85, 0.15), seed=SEED)
    train, val = train_all.subset(tr), train_all.subset(va)
    out = Path(args.out)
    _write_heldout(heldout, out / "heldout")  # frozen before any model exists
    heldout_loaded = heldout_sets(out / "heldout" / HELDOUT_GSD.name, out / "heldout" / HELDOUT_MANIFEST.name)

    for name in args.models.split(","):
        spec = SPECS[name]
        builder = {"dmpnn": dmpnn_builder, "cnn": cnn_builder}[spec["builder"]]
        net, task, batch = builder(spec["params"], train, val, SEED, **spec["options"])
        epochs = max(1, int(round(spec["epochs"] * args.epochs_scale)))
        config = TrainConfig(epochs=epochs, batch_size=batch, seed=SEED, progress=not args.quiet)
        result = fit(net, task, config, checkpoint=work / f"{name}.ckpt", resume=True)
        val_samples = task.val_samples()
        val_auc, val_acc = scores(task.labels(val_samples), predict_logits(net, val_samples, task.collate))
        card: dict[str, Any] = {
            "name": name,
            "model": spec["builder"],
            "description": ("2D Kob-Andersen (65:35, density 1.2) liquid vs glass classifier. Liquids: every "
                            "liquid of datasets 1-6 (T = 1.990, 1.756, 0.957, 0.547, 0.440 from fast cooling, "
                            "equilibrium liquids at 0.547); glasses: T = 0.05 after fast cooling (2e5 steps)."),
            "data": {"cooling_campaign": str(args.cooling), "liquid_campaign": str(args.liquids),
                     "protocol": "2D KA, N = 4320, fast rate 2e5 steps (LAMMPS); liquids held 3e5 steps at 0.547",
                     "n_trajectories_train": int(len(set(train.groups))),
                     "n_trajectories_validation": int(len(set(val.groups))),
                     "n_trajectories_heldout": int(len(keep_out)),
                     "n_configurations_train": len(train), "n_configurations_validation": len(val),
                     "n_glass_train": int(train.labels.sum()), "n_liquid_train": int(len(train) - train.labels.sum()),
                     **train.geometry(),
                     "dataset6_energy_match": summary.get("dataset6_energy_match", {}).get("text")},
            "hyperparameters": spec["params"], "options": spec["options"],
            "training": {"epochs": epochs, "seed": SEED, "best_epoch": result.best_epoch,
                         "history": result.history},
            "scores": {"validation_auc": val_auc, "validation_accuracy": val_acc},
        }
        models_dir = out / "models"
        models_dir.mkdir(parents=True, exist_ok=True)
        path = models_dir / f"{name}.pt"
        save_bundle(path, net, task.featurizer, card=card)
        card["heldout"] = score_on_heldout(load_bundle(path), heldout_loaded)
        card["heldout_baseline_bb_edges"] = baseline_scores(heldout_loaded)
        card["heldout_baseline_is_energy"] = is_energy_baseline(heldout_loaded)
        save_bundle(path, net, task.featurizer, card=card)
        (models_dir / f"{name}.json").write_text(json.dumps(
            {k: v for k, v in card.items() if k != "training"} | {"training": {
                k: v for k, v in card["training"].items() if k != "history"}}, indent=2) + "\n")
        if not args.quiet:
            print(f"{name}: validation AUC {val_auc:.4f}")
            for ds, sc in card["heldout"].items():
                print(f"  held out {ds:12s} AUC {sc['auc']:.4f}  accuracy {sc['accuracy']:.3f}  (n = {sc['n']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
