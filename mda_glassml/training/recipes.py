"""Make the shipped models and their held-out set from campaigns, with fixed seeds.

Two recipes (``--recipe``):

``tg`` (the default; card version 2)::

    python -m mda_glassml.training.recipes --cooling cool4320 --liquids liquid_0.60 [--delta 0.05] [--out DIR]

1. labels every record of the cooling campaign by the physics
   (:func:`~mda_glassml.simulation.datasets.build_tg_datasets`: glass below
   ``Tg - delta``, liquid above ``Tg + delta``, Tg from the campaign's own IS
   energies; hold campaigns join as liquids);
2. holds out ``--heldout-fraction`` (0.2) of each campaign's trajectories,
   drawn from the names before anything is trained and written out first
   (:func:`heldout_trajectories`): nothing of them is used for training, model
   selection or any choice of the recipe;
3. trains on the rest — thermal frames *and* their inherent structures, the
   rarer class repeated to balance, hold runs paired with cooling runs for the
   grouped split — with :func:`~mda_glassml.training.pipeline.train_model`
   (temperature scaling fitted on validation);
4. reports on the held-out runs (:func:`heldout_report`): AUC, accuracy, Brier
   score and ECE of every set (Tg-labelled thermal and inherent, datasets 1-5
   and their inherent structures), each beside the three no-ML baselines, and
   where P(glass) crosses 0.5 along each held-out cooling run against Tg;
   writes bundles, cards (no machine paths: campaign names, commands, seeds),
   a reliability diagram and a crossing plot per model. Every held-out
   configuration is written to the work folder; the package gets those of
   ``--bundle-runs`` (2) held-out cooling runs, small enough to ship, with
   the model's scores on them in the card (``heldout_shipped``).

``paper`` (card version 1; the models shipped beside the tg ones as ``ka2d-dmpnn-paper`` and
``ka2d-cnn-paper``, the paper's exact task)::

    python -m mda_glassml.training.recipes --recipe paper --cooling fast4320 --liquids liquids4320

builds datasets 1-6, holds out 25 % of each campaign's trajectories, and
trains on every liquid of datasets 1-6 against the T = 0.05 glass of its
trajectory (thermal frames only): ``ka2d-dmpnn-paper`` (invariant D-MPNN, k = 2,
hidden 300, depth 3, mean readout, windows of side 12) and ``ka2d-cnn-paper`` (the
compact CNN on 250 x 250 images of whole frames). Both recipes write the
bundles into ``mda_glassml/data/models/`` and held-out configurations into
``mda_glassml/data/heldout/`` (a GSD and a manifest naming each configuration's
sets: ``ka2d_heldout_paper.*`` for the paper recipe, all of them;
``ka2d_heldout.*`` for the tg recipe, a shippable sample) unless
``--out`` says otherwise, so that a test can check that the shipped models
still reach the recorded scores.
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

from ..baselines import BASELINES, baseline_values, potential_energy
from ..errors import InputError
from ..frames import Frame
from .crossval import cnn_builder, dmpnn_builder
from .data import LabelledFrames, group_split
from .loop import TrainConfig, fit, predict_logits, scores

__all__ = ["main", "heldout_report", "HELDOUT_GSD", "HELDOUT_MANIFEST", "HELDOUT_PAPER_GSD",
           "HELDOUT_PAPER_MANIFEST", "heldout_files", "heldout_sets", "score_on_heldout", "baseline_scores",
           "is_energy_baseline", "heldout_trajectories"]

_DATA = Path(__file__).resolve().parent.parent / "data"
HELDOUT_GSD = _DATA / "heldout" / "ka2d_heldout.gsd"
HELDOUT_MANIFEST = _DATA / "heldout" / "ka2d_heldout.csv"
#: The paper recipe's held-out set (every held-out configuration of its campaigns), beside its ``-paper`` models.
HELDOUT_PAPER_GSD = _DATA / "heldout" / "ka2d_heldout_paper.gsd"
HELDOUT_PAPER_MANIFEST = _DATA / "heldout" / "ka2d_heldout_paper.csv"
SEED = 2026

#: The paper recipe (card version 1): every liquid of datasets 1-6 against the T = 0.05 glass, thermal only.
SPECS: dict[str, dict[str, Any]] = {
    "ka2d-dmpnn-paper": {"builder": "dmpnn", "epochs": 20,
                   "params": {"k": 2, "window": 0.2, "hidden": 300, "depth": 3, "dropout": 0.0,
                              "ffn_layers": 2, "batch_size": 25},
                   "options": {"mode": "invariant", "n_rbf": 16, "readout": "mean", "windows_per_frame": 8}},
    "ka2d-cnn-paper": {"builder": "cnn", "epochs": 60, "params": {"dropout": 0.2, "batch_size": 10},
                 "options": {"variant": "compact", "image_size": 250}},
}


def _engine_options(record: dict, cooling: bool = True) -> str:
    """``simulate`` options of a campaign record (datasets.json): the particle count, and the engine, density and
    steps when not the defaults; with a trailing space. Records written before 2026-12-08 carry no density
    (their campaigns are at simulate's default, 1.2, unless made otherwise)."""
    from ..simulation.protocol import FAST_STEPS, CoolingProtocol  # noqa: PLC0415

    options = [f"--particles {record['n_particles']}"]
    if record.get("engine", "lammps") != "lammps":
        options.insert(0, f"--engine {record['engine']}")
    if record.get("density", CoolingProtocol.density) != CoolingProtocol.density:
        options.append(f"--density {float(record['density'])!r}")  # exact: :g would round to 6 digits
    if cooling and record.get("n_steps", FAST_STEPS) != FAST_STEPS:
        options.append(f"--steps {record['n_steps']}")
    return " ".join(options) + " "


def _load(manifests: Path, name: str) -> LabelledFrames:
    return LabelledFrames.from_manifest(manifests / f"{name}.csv")


def _concat(parts: list[LabelledFrames]) -> LabelledFrames:
    return LabelledFrames.concat(parts)


def heldout_files(card_version: int, folder: Path | None = None) -> tuple[Path, Path]:
    """The held-out GSD and manifest that cards of this version score (``folder``: another heldout/).

    Version 2 (tg recipe): ``ka2d_heldout.*``; version 1 (paper recipe): ``ka2d_heldout_paper.*``.
    """
    gsd_path, manifest = (HELDOUT_GSD, HELDOUT_MANIFEST) if card_version >= 2 else (
        HELDOUT_PAPER_GSD, HELDOUT_PAPER_MANIFEST)
    return (gsd_path, manifest) if folder is None else (folder / gsd_path.name, folder / manifest.name)


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
    """AUC and accuracy (at calibrated P(glass) = 0.5) of a loaded bundle's model on each held-out dataset."""
    from ..classify import Classifier  # noqa: PLC0415

    clf = Classifier(model)
    out = {}
    for name, data in sorted(sets.items()):
        _, _, auc, acc = _scored(clf, data)
        out[name] = {"auc": auc, "accuracy": acc, "n": len(data)}
    return out


def _scored(clf: Any, data: LabelledFrames) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Logits, calibrated P(glass) (per view, as classify gives it), AUC (of the logits: saturated
    probabilities would tie) and accuracy at calibrated P(glass) = 0.5, as classify says."""
    z = clf.logits(data.frames)
    p = clf.calibrated(z, clf.views(data.frames))
    auc, _ = scores(data.labels, z)
    return z, p, auc, float(np.mean((p >= 0.5) == (data.labels == 1)))


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


def heldout_report(model: Any, sets: dict[str, LabelledFrames], band: dict[str, LabelledFrames] | None = None,
                   tg: float | None = None, cooling: str | None = None) -> dict[str, Any]:
    """Everything the card says about a model on held-out sets: scores, calibration, baselines, crossing.

    ``sets`` maps a set name to labelled configurations (names ending in
    ``_is`` are inherent structures). Per set: AUC, accuracy, Brier score
    and expected calibration error of the model's (calibrated, per view where its card has one per view) P(glass),
    and the AUC of each no-ML baseline (B–B edges, vibration, and on
    inherent structures the IS energy; lower = glass in all three, fixed,
    not fitted). With ``band`` (the records near Tg, same naming) the
    crossing of P(glass) = 0.5 along temperature is measured per
    trajectory of the cooling campaign named ``cooling`` and pooled, thermal
    and inherent structures apart, beside ``tg``.
    """
    from ..classify import Classifier, crossing_temperature  # noqa: PLC0415
    from .calibration import calibration  # noqa: PLC0415

    clf = Classifier(model)
    out: dict[str, Any] = {"sets": {}}
    probs: dict[str, np.ndarray] = {}
    for name, data in sorted(sets.items()):
        _, p, auc, acc = _scored(clf, data)
        probs[name] = p
        cal = calibration(data.labels, p)
        base = baseline_values(data.frames, [potential_energy(f) for f in data.frames]
                               if name.endswith("_is") else None)
        out["sets"][name] = {"n": len(data), "auc": auc, "accuracy": acc, "brier": cal.brier, "ece": cal.ece,
                             "baselines": {b: scores(data.labels, -(v - np.median(v)))[0] for b, v in base.items()}}
    if band is not None:
        out["crossing"] = {"tg": tg}
        for kind, suffix in (("thermal", ""), ("inherent", "_is")):
            names = [n for n in sets if n.startswith("tg_") and n.endswith("_is") == bool(suffix)]
            t = np.concatenate([sets[n].temperatures for n in names] + [band["tg_band" + suffix].temperatures])
            g = np.concatenate([sets[n].groups for n in names] + [band["tg_band" + suffix].groups])
            pb = clf.probabilities(band["tg_band" + suffix].frames)
            p = np.concatenate([probs[n] for n in names] + [pb])
            along = np.char.startswith(g.astype(str), f"{cooling}/")  # hold runs have one T: no curve
            t, g, p = t[along], g[along], p[along]
            pooled = crossing_temperature(t, p)
            per_run = {str(run): crossing_temperature(t[g == run], p[g == run]) for run in np.unique(g)}
            values = np.array([c.temperature for c in per_run.values()])
            out["crossing"][kind] = {
                "pooled": pooled.temperature, "width": pooled.width, "reason": pooled.reason,
                "per_run_mean": float(np.nanmean(values)) if np.isfinite(values).any() else None,
                "per_run_sd": float(np.nanstd(values, ddof=1)) if np.isfinite(values).sum() > 1 else None,
                "n_runs": int(values.size), "n_not_crossing": int((~np.isfinite(values)).sum()),
                "curve": {f"{x:.4f}": float(p[t == x].mean()) for x in sorted(np.unique(t), reverse=True)}}
    return out


def _write_heldout(sets: dict[str, LabelledFrames], folder: Path, card_version: int) -> None:
    import gsd.hoomd  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    index: dict[tuple, int] = {}
    frames, rows = [], []
    for name, data in sorted(sets.items()):
        for f, y, g, t in zip(data.frames, data.labels, data.groups, data.temperatures):
            # One configuration in several sets is written once. Its record (the frame's index in its
            # trajectory file) is part of the key: a hold run keeps several records at one temperature.
            key = (g, round(float(t), 5), int(y), name.endswith("_is"), f.index if f.index is not None else id(f))
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
    gsd_path, manifest = heldout_files(card_version, folder)
    os.replace(tmp, gsd_path)
    with open(manifest, "w", newline="") as fh:
        w = csv.DictWriter(fh, ["frame", "label", "temperature", "trajectory", "inherent", "datasets"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "datasets": " ".join(r["datasets"])})


#: The tg recipe (card version 2, the default models): Tg-labelled thermal frames and their inherent structures
#: together; see docs/pretrained.rst.
TG_SPECS: dict[str, dict[str, Any]] = {
    # 40 epochs: at 12 the validation AUC was still rising (0.910; 0.953 at 40, N = 1080 campaign).
    # hidden 32: the fast model (22.7 frames/s at N = 4320, one thread; docs/benchmarks.rst).
    "ka2d-dmpnn": {"model": "dmpnn", "epochs": 40,
                   # k = 6: the first shell, so that a node sees the pair distances its local energy depends on
                   "params": {"k": 6, "window": 0.2, "hidden": 32, "depth": 3, "dropout": 0.0,
                              "ffn_layers": 2, "batch_size": 25},
                   "options": {"mode": "invariant", "n_rbf": 16, "readout": "mean", "windows_per_frame": 4}},
    # the paper's scale, 250 pixels for its 60 x 60 boxes, whatever the campaign's box: frames of other
    # sizes are then seen as tiles of the training side at the same scale (Classifier.cnn_tiles)
    "ka2d-cnn": {"model": "cnn", "epochs": 30, "params": {"dropout": 0.2, "batch_size": 10},
                 "options": {"variant": "compact", "pixels_per_length": 250 / 60}},
}
CARD_VERSION = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mda_glassml.training.recipes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", choices=("tg", "paper"), default="tg",
                        help="tg (default): every record labelled against the campaign's own Tg, thermal frames and "
                             "their inherent structures together; paper: datasets 1-6's task (liquids vs the "
                             "T = 0.05 glass, thermal frames only)")
    parser.add_argument("--cooling", required=True, help="fast-rate cooling campaign (records on both sides of Tg)")
    parser.add_argument("--liquids", action="append", default=[],
                        help="equilibrium-liquid campaign (repeatable; tg: liquids above Tg + delta; paper: "
                             "dataset 6's liquids, one)")
    parser.add_argument("--delta", type=float, default=0.05, help="tg: half-width of the band around Tg left out")
    parser.add_argument("--heldout-fraction", type=float, default=0.2,
                        help="tg: fraction of each campaign's trajectories held out (default 0.2)")
    parser.add_argument("--split", default="0.8,0.1,0.1",
                        help="tg: train/validation/test fractions of the remaining trajectories (default 0.8,0.1,0.1)")
    parser.add_argument("--out", default=str(_DATA), help="where models/ and heldout/ go (default: the package)")
    parser.add_argument("--models", default=None,
                        help="which models to train (default: the recipe's two, ka2d-dmpnn,ka2d-cnn for tg and "
                             "ka2d-dmpnn-paper,ka2d-cnn-paper for paper)")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="multiply every model's epochs (tests)")
    parser.add_argument("--work", default=None, help="folder for manifests and checkpoints (default: temporary)")
    parser.add_argument("--bundle-runs", type=int, default=2,
                        help="tg: held-out cooling runs whose configurations ship beside the models (default 2)")
    parser.add_argument("--hidden", type=int, default=None,
                        help="tg: the D-MPNN's hidden size instead of the recipe's (the model-size study)")
    parser.add_argument("--pair-energy", action="store_true",
                        help="tg: the D-MPNN's edges also carry their Kob-Andersen pair energy (a recipe study)")
    parser.add_argument("--pixels-per-length", type=float, default=None,
                        help="tg: the CNN's rendering scale (pixels per unit length) instead of the recipe's "
                             "250/60 (a recipe study)")
    parser.add_argument("--shift", action="store_true",
                        help="tg: the CNN's training pictures are also translated periodically by whole pixels "
                             "each epoch, beside the rotations and flips (a recipe study)")
    parser.add_argument("--cnn-width", type=int, default=1,
                        help="tg: the compact CNN's channels and hidden units times this (a recipe study; default 1)")
    parser.add_argument("--consistency", type=float, default=0.0,
                        help="tg: train on pairs (a thermal frame and its inherent structure, seen alike) with this "
                             "weight on the squared difference of their logits (a recipe study; default 0: off)")
    parser.add_argument("--sigmas", type=float, default=2.0, help="dataset 6 energy-match tolerance (standard errors)")
    parser.add_argument("--quiet", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    specs = TG_SPECS if args.recipe == "tg" else SPECS
    args.models = args.models or ",".join(specs)
    unknown = [m for m in args.models.split(",") if m not in specs]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown} for --recipe {args.recipe}; choose from {sorted(specs)}")
    if args.pair_energy and args.recipe != "tg":
        raise SystemExit("--pair-energy applies to the tg recipe's D-MPNN, not to --recipe paper")
    if args.hidden is not None and (args.recipe != "tg" or args.hidden < 1):
        raise SystemExit(f"--hidden takes a positive size and applies to the tg recipe, got {args.hidden} "
                         f"with --recipe {args.recipe}")
    if args.pixels_per_length is not None and (args.recipe != "tg" or not args.pixels_per_length > 0):
        raise SystemExit(f"--pixels-per-length takes a positive scale and applies to the tg recipe, got "
                         f"{args.pixels_per_length} with --recipe {args.recipe}")
    if args.shift and args.recipe != "tg":
        raise SystemExit("--shift applies to the tg recipe's CNN, not to --recipe paper")
    if args.cnn_width < 1 or (args.cnn_width != 1 and args.recipe != "tg"):
        raise SystemExit(f"--cnn-width takes a positive integer and applies to the tg recipe, got "
                         f"{args.cnn_width} with --recipe {args.recipe}")
    if not args.consistency >= 0 or (args.consistency and args.recipe != "tg"):
        raise SystemExit(f"--consistency takes a weight >= 0 and applies to the tg recipe, got {args.consistency} "
                         f"with --recipe {args.recipe}")
    return _main_tg(args) if args.recipe == "tg" else _main_paper(args)


def _balanced(data: LabelledFrames) -> LabelledFrames:
    """``data`` with the rarer class repeated (whole rounds, then a seeded remainder) to match the other.

    The Tg labels leave more liquid records than glass ones; unbalanced, the
    first models called every glass 50/50 (measured: P(glass) at most 0.55
    below Tg). Each repeat is a fresh draw of windows or translations.
    """
    return data.subset(_balance_index(data.labels))


def _balance_index(labels: np.ndarray) -> np.ndarray:
    counts = np.bincount(labels, minlength=2)
    rare = int(np.argmin(counts))
    idx = np.flatnonzero(labels == rare)
    extra = counts[1 - rare] - counts[rare]
    rng = np.random.default_rng(SEED)
    more = np.concatenate([np.tile(idx, extra // idx.size), rng.choice(idx, extra % idx.size, replace=False)])
    return np.concatenate([np.arange(len(labels)), more.astype(np.int64)])


def _balanced_pairs(thermal: LabelledFrames, inherent: LabelledFrames) -> LabelledFrames:
    """Thermal frames and their inherent structures (same order), balanced by repeating whole pairs, as one
    set whose ``partner`` pairs each frame with its inherent structure (the ``--consistency`` study)."""
    same = len(thermal) == len(inherent) and all(
        np.array_equal(getattr(thermal, k), getattr(inherent, k)) for k in ("labels", "groups", "temperatures"))
    if not same or any(a.index != b.index for a, b in zip(thermal.frames, inherent.frames)):
        raise InputError("the thermal frames and their inherent structures do not line up (each needs the same "
                         "trajectory, record, temperature and label in the same place): rebuild the tg manifests.")
    index = _balance_index(thermal.labels)
    both = _concat([thermal.subset(index), inherent.subset(index)])
    m = len(index)
    return LabelledFrames(both.frames, both.labels, both.groups, both.temperatures,
                          partner=np.r_[np.arange(m) + m, np.arange(m)])


def _pair_holds(data: LabelledFrames, cooling: str) -> LabelledFrames:
    """``data`` with every hold run's group replaced by a cooling run's (the k-th hold run of each hold
    campaign joins the k-th cooling run, cycling), so that no split part holds liquids only. Pairing
    independent runs only adds a constraint (a pair lands in one part): it leaks nothing."""
    groups = np.asarray(data.groups, dtype=str)
    runs = sorted({g for g in groups if g.startswith(f"{cooling}/")})
    mapping: dict[str, str] = {}
    for campaign in sorted({g.rsplit("/", 1)[0] for g in groups} - {cooling}):
        for k, g in enumerate(sorted({g for g in groups if g.startswith(f"{campaign}/")})):
            mapping[g] = runs[k % len(runs)]
    return LabelledFrames(data.frames, data.labels, [mapping.get(g, g) for g in groups], data.temperatures,
                          data.partner)


def _campaign_names(folders: list[str]) -> list[str]:
    return [Path(f).resolve().name for f in folders]


def _main_tg(args: argparse.Namespace) -> int:
    from ..models.bundle import load_bundle, save_bundle  # noqa: PLC0415
    from ..simulation.datasets import DATASET_LIQUID_RECORDS, build_datasets, build_tg_datasets  # noqa: PLC0415
    from ..simulation.protocol import CoolingProtocol  # noqa: PLC0415
    from .calibration import calibration  # noqa: PLC0415
    from .loop import TrainConfig  # noqa: PLC0415
    from .pipeline import train_model  # noqa: PLC0415

    try:
        fractions = tuple(float(x) for x in args.split.split(","))
    except ValueError:
        raise SystemExit(f"--split takes three comma-separated fractions, got {args.split!r}") from None
    if len(fractions) != 3:
        raise SystemExit(f"--split takes three comma-separated fractions, got {args.split!r}")
    work = Path(args.work or tempfile.mkdtemp(prefix="mda_glassml_pretrained_"))
    summary = build_tg_datasets(work / "tg", cooling=args.cooling, liquids=args.liquids, delta=args.delta)
    tg_sets = {n: _load(work / "tg", n) for n in ("tg_thermal", "tg_thermal_is", "tg_band", "tg_band_is")}
    # The hold-out first, from the trajectory names alone (stratified by campaign): nothing below looks at it.
    keep_out = heldout_trajectories(np.concatenate([d.groups for d in tg_sets.values()]),
                                    fraction=args.heldout_fraction)
    held = {n: d.subset(np.flatnonzero(np.isin(d.groups, list(keep_out)))) for n, d in tg_sets.items()}
    trained = [d.subset(np.flatnonzero(~np.isin(d.groups, list(keep_out))))
               for d in (tg_sets["tg_thermal"], tg_sets["tg_thermal_is"])]
    cooling_folder = Path(args.cooling).resolve().name
    train_all = (_pair_holds(_balanced_pairs(*trained), cooling_folder) if args.consistency
                 else _balanced(_pair_holds(_concat(trained), cooling_folder)))
    # The paper's datasets 1-5 (and 6, with one --liquids at its temperature) of the held-out runs, for the card.
    # Dataset 6 too where a liquids campaign was held at dataset 4's temperature (T = 0.547) and its IS
    # energies match the glasses' (the builder measures it; refused otherwise, and the card says why).
    paper: dict[str, LabelledFrames] = {}
    notes: list[str] = []
    t6 = CoolingProtocol().record_temperatures()[DATASET_LIQUID_RECORDS[4]]
    six = [f for f, h in zip(args.liquids, summary["liquids"]) if abs(h["hold_temperature"] - t6) < 5e-3]
    attempts = ([{"datasets": [1, 2, 3, 4, 5, 6], "liquids": six[0]}] if six else []) + [{"datasets": [1, 2, 3, 4, 5]}]
    for kwargs in attempts:
        try:
            built = build_datasets(work / "paper", cooling=args.cooling, sigmas=args.sigmas, **kwargs)
        except InputError as err:  # a campaign without the datasets' records, or dataset 6 not energy-matched
            notes.append(str(err))
            continue
        paper = {n: _load(work / "paper", n) for n in built["datasets"]}
        paper = {n: d.subset(np.flatnonzero(np.isin(d.groups, list(keep_out)))) for n, d in paper.items()}
        if "dataset6_energy_match" in built:
            notes.append("dataset 6: " + built["dataset6_energy_match"]["text"])
        break
    paper_note = "; ".join(notes) or None
    sets = {"tg_thermal": held["tg_thermal"], "tg_is": held["tg_thermal_is"], **paper}
    band = {"tg_band": held["tg_band"], "tg_band_is": held["tg_band_is"]}
    out = Path(args.out)
    cooling_name, liquid_names = _campaign_names([args.cooling])[0], _campaign_names(args.liquids)
    # Frozen before any model exists: every held-out configuration in the work folder (tens of MB at
    # N = 4320), and beside the models the configurations of a few held-out cooling runs, small enough to ship,
    # on which a test checks that the shipped model still gives the scores its card records.
    _write_heldout({**sets, **band}, work / "heldout", CARD_VERSION)
    shipped_runs = sorted(g for g in keep_out if g.startswith(f"{cooling_name}/"))[:args.bundle_runs]
    shipped = {n: d.subset(np.flatnonzero(np.isin(d.groups, shipped_runs))) for n, d in sets.items()}
    shipped = {n: d for n, d in shipped.items() if len(d)}
    _write_heldout(shipped, out / "heldout", CARD_VERSION)
    for name in args.models.split(","):
        spec = TG_SPECS[name]
        if args.hidden is not None and spec["model"] == "dmpnn":
            spec = {**spec, "params": {**spec["params"], "hidden": args.hidden}}
        if args.pair_energy and spec["model"] == "dmpnn":
            spec = {**spec, "options": {**spec["options"], "pair_energy": True}}
        if "pixels_per_length" in spec["options"]:
            options = dict(spec["options"])
            if args.pixels_per_length is not None:
                options["pixels_per_length"] = args.pixels_per_length
            side = train_all.geometry()["box_side"]
            options["image_size"] = max(32, int(round(side * options.pop("pixels_per_length"))))
            if args.shift:
                options["shift"] = True
            if args.cnn_width != 1:
                options["width"] = args.cnn_width
            spec = {**spec, "options": options}
        if args.consistency:
            spec = {**spec, "options": {**spec["options"], "consistency": args.consistency}}
        epochs = max(1, int(round(spec["epochs"] * args.epochs_scale)))
        config = TrainConfig(epochs=epochs, seed=SEED, progress=not args.quiet)
        card = train_model(train_all, work / name, model=spec["model"], params=spec["params"], config=config,
                           fractions=fractions,
                           source=f"tg-labelled records of {cooling_name}" + "".join(f", {n}" for n in liquid_names),
                           **spec["options"])
        bundle = load_bundle(work / name / "model.pt")
        report = heldout_report(bundle, sets, band, tg=summary["tg"], cooling=cooling_name)
        # reliability on every held-out labelled configuration, thermal and inherent together
        pooled = _concat([held["tg_thermal"], held["tg_thermal_is"]])
        from ..classify import Classifier  # noqa: PLC0415

        clf = Classifier(bundle)
        reliability = calibration(pooled.labels, clf.probabilities(pooled.frames))
        card.update({
            "card_version": CARD_VERSION,
            "name": name,
            "description": (
                f"2D Kob-Andersen (65:35, density {summary.get('cooling', {}).get('density', 1.2):g}) glass vs liquid, "
                "labelled by the physics: a configuration "
                f"recorded below Tg - {args.delta:g} = {summary['glass_below']:.3f} is a glass, above Tg + "
                f"{args.delta:g} = {summary['liquid_above']:.3f} a liquid (Tg = {summary['tg']:.3f} from the IS "
                "energies of the same fast-cooling campaign); trained on thermal frames and their inherent "
                "structures together, so vibration alone does not decide."),
            "labels": {k: summary[k] for k in ("tg", "tg_err", "delta", "glass_below", "liquid_above", "n_glass",
                                               "n_liquid", "n_band", "per_temperature")},
            "recipe": {
                "commands": [
                    # every option that left its default (the particle count always: its default is 4320)
                    f"mda-glassml simulate --out {cooling_name} --n-trajectories {summary['n_cooling_runs']} "
                    f"{_engine_options(summary['cooling'])}"
                    f"--records {','.join(map(str, summary['cooling_records']))} "
                    f"--seed {summary['cooling']['campaign_seed']}",
                    *[f"mda-glassml simulate --out {n} --n-trajectories {h['n_runs']} "
                      f"{_engine_options(h, cooling=False)}"
                      f"--hold-temperature {h['hold_temperature']:g} --hold-steps {h['n_steps']} --hold-records "
                      f"{h['n_records']} --melt-steps {h['melt_steps']} "
                      f"--seed {h['campaign_seed']}" for n, h in zip(liquid_names, summary["liquids"])],
                    "python -m mda_glassml.training.recipes --recipe tg --cooling " + cooling_name
                    + "".join(f" --liquids {n}" for n in liquid_names) + f" --delta {args.delta:g}"
                    + (f" --sigmas {args.sigmas:g}" if args.sigmas != 2.0 else "")
                    + (f" --hidden {args.hidden}" if args.hidden is not None and spec["model"] == "dmpnn" else "")
                    + (" --pair-energy" if args.pair_energy and spec["model"] == "dmpnn" else "")
                    + (f" --pixels-per-length {args.pixels_per_length:g}"
                       if args.pixels_per_length is not None and spec["model"] == "cnn" else "")
                    + (" --shift" if args.shift and spec["model"] == "cnn" else "")
                    + (f" --cnn-width {args.cnn_width}" if args.cnn_width != 1 and spec["model"] == "cnn" else "")
                    + (f" --consistency {args.consistency:g}" if args.consistency else "")],
                "seed": SEED, "heldout_fraction": args.heldout_fraction, "epochs": epochs,
                "engine": summary["cooling"]["engine"], "n_particles": summary["cooling"]["n_particles"],
                "density": summary["cooling"].get("density", 1.2)},
            "heldout_trajectories": sorted(keep_out),
            "heldout": report,
            "heldout_shipped": {"trajectories": shipped_runs, "sets": score_on_heldout(bundle, shipped)},
            "heldout_reliability": reliability.to_dict(),
            "heldout_paper_datasets": (f"datasets {', '.join(_dataset_numbers(paper))} of the held-out runs"
                                       + (f" ({paper_note})" if paper_note else "") if paper else paper_note),
        })
        models_dir = out / "models"
        save_bundle(models_dir / f"{name}.pt", bundle.model, bundle.featurizer, card=card)
        (models_dir / f"{name}.json").write_text(json.dumps(
            {k: v for k, v in card.items() if k != "training"} | {"training": {
                k: v for k, v in card["training"].items() if k != "history"}}, indent=2) + "\n")
        _save_figure(reliability.figure(f"{name}: held-out trajectories (thermal + inherent)"),
                     models_dir / f"{name}_reliability.png")
        _save_figure(crossing_figure(report["crossing"], name), models_dir / f"{name}_crossing.png")
        if not args.quiet:
            cr = report["crossing"]
            print(f"{name}: Tg {summary['tg']:.3f}; P(glass) = 0.5 at T = {cr['thermal']['pooled']:.3f} (thermal), "
                  f"{cr['inherent']['pooled']:.3f} (inherent structures); held-out ECE {reliability.ece:.3f}")
            for ds, sc in report["sets"].items():
                base = ", ".join(f"{b} {v:.3f}" for b, v in sc["baselines"].items())
                print(f"  held out {ds:14s} AUC {sc['auc']:.4f}  accuracy {sc['accuracy']:.3f}  ECE {sc['ece']:.3f}"
                      f"  (n = {sc['n']}; baselines: {base})")
    return 0


def _dataset_numbers(names: Any) -> list[str]:
    """``["1", "2", ...]`` of set names ``dataset1``, ``dataset1_is``, ...: each dataset once, in order."""
    return sorted({n.removeprefix("dataset").removesuffix("_is") for n in names}, key=int)


def _save_figure(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def crossing_figure(crossing: dict[str, Any], title: str) -> Any:
    """Mean held-out P(glass) against temperature (thermal and inherent structures), with Tg and the crossings."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(5.2, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for kind, color in (("thermal", "C3"), ("inherent", "C0")):
        curve = crossing[kind]["curve"]
        t = np.array([float(x) for x in curve])
        ax.plot(t, list(curve.values()), "o-", ms=3, color=color, label=f"{kind} (crosses at "
                f"{crossing[kind]['pooled']:.3f})")
    if crossing.get("tg") is not None:
        ax.axvline(crossing["tg"], color="k", ls="--", lw=1, label=f"Tg = {crossing['tg']:.3f} (IS energy)")
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("temperature of the record")
    ax.set_ylabel("mean P(glass), held-out runs")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="x-small")
    return fig


def _main_paper(args: argparse.Namespace) -> int:
    from ..models.bundle import load_bundle, save_bundle  # noqa: PLC0415
    from ..simulation.datasets import build_datasets  # noqa: PLC0415

    if len(args.liquids) != 1:
        raise SystemExit("--recipe paper takes one --liquids campaign (dataset 6's liquids)")
    args.liquids = args.liquids[0]

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
    _write_heldout(heldout, out / "heldout", card_version=1)  # frozen before any model exists
    heldout_loaded = heldout_sets(*heldout_files(1, out / "heldout"))

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
            "description": ("2D Kob-Andersen (65:35, density "
                            f"{summary.get('cooling', {}).get('density', 1.2):g}) liquid vs glass classifier. "
                            "Liquids: every liquid of datasets 1-6 (T = 1.990, 1.756, 0.957, 0.547, 0.440 from fast "
                            "cooling, equilibrium liquids at 0.547); glasses: T = 0.05 after fast cooling (2e5 "
                            "steps)."),
            "data": {"cooling_campaign": Path(args.cooling).resolve().name,  # names, never machine paths
                     "liquid_campaign": Path(args.liquids).resolve().name,
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
