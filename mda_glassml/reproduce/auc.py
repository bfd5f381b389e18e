"""Figures 5 and 15: AUC and accuracy per dataset by nested cross-validation, beside no-ML baselines.

Each model is scored by :func:`~mda_glassml.training.crossval.nested_cv`
(three grouped outer folds; hyperparameters chosen on inner validation only).
Beside it, on the **same outer test samples** (the D-MPNN's test windows are
redrawn from the seed nested_cv used; the CNN's are whole frames), three
scores that need no model:

``bb_edges``
    B–B edges per particle of the B-neighbor graph (k = 2, symmetric):
    fewer in a glass.
``vibration``
    the spread of first-neighbour distances (their coefficient of
    variation, :func:`mda_glassml.baselines.neighbour_spread`): thermal
    vibration, larger in a hot liquid. A model that does no better than
    this may have learned the temperature.
``is_energy``
    the configuration's inherent-structure energy per particle (from the
    manifest; for a window, that of its whole frame).

A baseline's direction (is a glass high or low?) is decided on the outer
*training* configurations of each fold, never on its test set. The same
per-fold machinery scores the baselines beside Figure 6
(:func:`cross_dataset_baselines`: direction from dataset i, test on dataset
j) and Figure 7 (:func:`baseline_aucs` on windows of each side).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..baselines import BASELINES, baseline_values
from ..frames import Frame
from ..training.data import PAPER_BOX_SIDE, LabelledFrames, evaluation_windows, outer_folds

__all__ = ["auc_figure", "baseline_aucs", "cross_dataset_baselines", "fold_test_samples", "manifest_is_energy",
           "paired_groups"]


def fold_test_samples(data: LabelledFrames, idx: np.ndarray, window: float | None, fold_seed: int,
                      per_frame: int = 1) -> tuple[list[Frame], np.ndarray, np.ndarray]:
    """nested_cv's outer test samples of a fold (``task.samples(test, seed + 7)``): windows of side ``window``
    (None: the frames), their labels and the row of ``data`` each comes from. Everything scored beside a
    fold model (baselines, the saved model reloaded) takes its samples from here."""
    frames = [data.frames[i] for i in idx]
    cut, labels = evaluation_windows(frames, data.labels[idx], window, fold_seed + 7, per_frame if window else 1)
    return cut, labels, np.tile(idx, len(cut) // max(len(idx), 1))


class _FoldBaselines:
    """Baseline directions (from each fold's outer-train frames) and test scores, computed once per fold."""

    def __init__(self, data: LabelledFrames, is_energy: np.ndarray, window_fraction: float | None, n_folds: int,
                 seed: int, per_frame: int):
        from sklearn.metrics import roc_auc_score  # noqa: PLC0415

        window = None if window_fraction is None else window_fraction * PAPER_BOX_SIDE
        energy = np.asarray(is_energy, dtype=np.float64)
        self.signs, self.tests = [], []
        for fold, (train, test) in enumerate(outer_folds(data.groups, n_folds=n_folds, seed=seed)):
            # Direction from the training part (whole frames: cheap and free of the test set).
            train_scores = baseline_values([data.frames[i] for i in train], energy[train])
            self.signs.append({name: 1.0 if roc_auc_score(data.labels[train], v) >= 0.5 else -1.0
                               for name, v in train_scores.items()})
            cut, labels, rows = fold_test_samples(data, test, window, seed + 1000 * fold, per_frame)
            self.tests.append((labels, baseline_values(cut, energy[rows])))

    def aucs(self, trained_on: "_FoldBaselines") -> dict[str, list[float]]:
        """Per-fold AUC of every baseline, its direction from ``trained_on``'s folds, scored on these."""
        from sklearn.metrics import roc_auc_score  # noqa: PLC0415

        out: dict[str, list[float]] = {name: [] for name in [*BASELINES, "is_energy"]}
        for signs, (labels, scores) in zip(trained_on.signs, self.tests):
            for name in out:
                out[name].append(float(roc_auc_score(labels, signs[name] * scores[name])))
        return out


def _summary(per_fold: dict[str, list[float]]) -> dict[str, Any]:
    return {name: {"auc": float(np.mean(v)), "auc_sd": float(np.std(v, ddof=1)) if len(v) > 1 else float("nan"),
                   "per_fold": v} for name, v in per_fold.items()}


def baseline_aucs(data: LabelledFrames, is_energy: np.ndarray, window_fraction: float | None, n_folds: int = 3,
                  seed: int = 0, windows_per_frame: int = 1) -> dict[str, Any]:
    """AUC (mean ± sd over the outer folds of nested_cv with ``seed``) of every baseline.

    ``window_fraction`` is the D-MPNN's window as a fraction of the paper's box
    side (None: whole frames, as the CNN sees them); ``windows_per_frame`` its
    test windows per frame (the graph task's).
    """
    folds = _FoldBaselines(data, is_energy, window_fraction, n_folds, seed, windows_per_frame)
    return _summary(folds.aucs(folds))


def cross_dataset_baselines(datasets: dict[str, LabelledFrames], is_energy: dict[str, np.ndarray],
                            window_fraction: float | None, n_folds: int = 3, seed: int = 0,
                            windows_per_frame: int = 1) -> dict[str, Any]:
    """Figure 6 for each baseline: its direction set on dataset i's outer-train fold k, scored on j's test fold k.

    Returns ``{"datasets": names, "window_fraction": ..., "auc": {baseline: matrix}}`` (mean over folds).
    """
    names = list(datasets)
    folds = {n: _FoldBaselines(datasets[n], is_energy[n], window_fraction, n_folds, seed, windows_per_frame)
             for n in names}
    mats = {name: np.full((len(names), len(names)), np.nan) for name in [*BASELINES, "is_energy"]}
    for a, train in enumerate(names):
        for b, test in enumerate(names):
            for name, v in folds[test].aucs(folds[train]).items():
                mats[name][a, b] = float(np.mean(v))
    return {"datasets": names, "window_fraction": window_fraction, "auc": {k: m.tolist() for k, m in mats.items()}}


def paired_groups(data: LabelledFrames) -> LabelledFrames:
    """``data`` with single-class trajectories paired (k-th liquid run with k-th glass run) into one group.

    Dataset 6's liquids and glasses come from different, independent runs, so
    every trajectory holds one class and a grouped 10 % validation part would
    hold one class only. Pairing independent runs into one group only adds a
    constraint (each pair lands in one split), so it leaks nothing.
    """
    liquid = [g for g in dict.fromkeys(data.groups[data.labels == 0])]
    glass = [g for g in dict.fromkeys(data.groups[data.labels == 1])]
    if set(liquid) & set(glass):
        return data
    pair = {g: f"pair_{k:04d}" for k, g in enumerate(liquid)}
    pair.update({g: f"pair_{k:04d}" for k, g in enumerate(glass)})
    return LabelledFrames(data.frames, data.labels, [pair[g] for g in data.groups], data.temperatures)


def manifest_is_energy(path: str | Path) -> np.ndarray:
    """The IS energy column of a dataset manifest, in its row order (that of LabelledFrames.from_manifest)."""
    from ..simulation.datasets import read_manifest  # noqa: PLC0415

    return np.array([r.is_energy for r in read_manifest(path)])


#: The paper's Figure 5: both models above 0.98 AUC on every dataset.
PAPER_MIN_AUC = 0.98


def auc_figure(results: dict[str, Any]) -> Any:
    """Bars of each model's AUC (mean ± sd over outer folds) per dataset, baselines as markers."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    names = list(results)
    x = np.arange(len(names))
    fig = Figure(figsize=(8.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for j, model in enumerate(("dmpnn", "cnn")):
        auc = [results[n][model]["auc"] for n in names]
        sd = [results[n][model]["auc_sd"] for n in names]
        ax.bar(x + (j - 0.5) * 0.36, auc, 0.36, yerr=sd, color=f"C{j}", label={"dmpnn": "D-MPNN", "cnn": "CNN"}[model])
    for k, (base, marker) in enumerate((("bb_edges", "v"), ("vibration", "s"), ("is_energy", "o"))):
        for j, model in enumerate(("dmpnn", "cnn")):
            ax.scatter(x + (j - 0.5) * 0.36, [results[n][model]["baselines"][base]["auc"] for n in names],
                       marker=marker, color="k", s=14, zorder=3, label=f"no ML: {base.replace('_', ' ')}" if j == 0 else None)
    ax.axhline(PAPER_MIN_AUC, color="C3", ls=":", lw=1, label="paper: > 0.98")
    ax.set_xticks(x, [n.replace("dataset", "dataset ") for n in names])
    ax.set_ylim(0.4, 1.02)
    ax.set_ylabel("outer-test AUC (mean ± sd, 3 folds)")
    ax.set_title("AUC per dataset, nested CV (Figures 5, 15), beside no-ML baselines")
    ax.legend(fontsize="x-small", ncol=3, loc="lower left")
    return fig
