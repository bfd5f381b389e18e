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
    variation): thermal vibration, larger in a hot liquid. A model that
    does no better than this may have learned the temperature.
``is_energy``
    the configuration's inherent-structure energy per particle (from the
    manifest; for a window, that of its whole frame).

A baseline's direction (is a glass high or low?) is decided on the outer
*training* configurations of each fold, never on its test set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..frames import Frame
from ..graphs import knn
from ..metrics import b_neighbor_metrics
from ..training.data import PAPER_BOX_SIDE, LabelledFrames, outer_folds, windows

__all__ = ["BASELINES", "auc_figure", "baseline_scores", "baseline_aucs", "manifest_is_energy", "neighbour_spread", "paired_groups"]


def neighbour_spread(frame: Frame) -> float:
    """Coefficient of variation of every particle's nearest-neighbour distance (float64 kNN)."""
    _, _, d = knn(frame, 1)
    d = np.asarray(d, dtype=np.float64)
    return float(d.std() / d.mean())


BASELINES: dict[str, Callable[[Frame], float]] = {
    "bb_edges": lambda f: b_neighbor_metrics(f, k=2).bb_edges_per_particle,
    "vibration": neighbour_spread,
}


def baseline_scores(frames: list[Frame], is_energy: np.ndarray) -> dict[str, np.ndarray]:
    """Every baseline's raw value for each configuration (windows or frames)."""
    out = {name: np.array([fn(f) for f in frames]) for name, fn in BASELINES.items()}
    out["is_energy"] = np.asarray(is_energy, dtype=np.float64)
    return out


def _fold_samples(data: LabelledFrames, idx: np.ndarray, window: float | None, seed: int) -> list[Frame]:
    # nested_cv's outer test samples: task.samples(test, seed + 7) -> windows(rng([seed + 7, 2]))
    frames = [data.frames[i] for i in idx]
    return windows(frames, window, np.random.default_rng([seed + 7, 2])) if window is not None else frames


def baseline_aucs(data: LabelledFrames, is_energy: np.ndarray, window_fraction: float | None, n_folds: int = 3,
                  seed: int = 0) -> dict[str, Any]:
    """AUC (mean ± sd over the outer folds of nested_cv with ``seed``) of every baseline.

    ``window_fraction`` is the D-MPNN's window as a fraction of the paper's box
    side (None: whole frames, as the CNN sees them).
    """
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415

    window = None if window_fraction is None else window_fraction * PAPER_BOX_SIDE
    is_energy = np.asarray(is_energy, dtype=np.float64)
    per_fold: dict[str, list[float]] = {name: [] for name in [*BASELINES, "is_energy"]}
    for fold, (train, test) in enumerate(outer_folds(data.groups, n_folds=n_folds, seed=seed)):
        fold_seed = seed + 1000 * fold
        # Direction from the training part (whole frames: cheap and free of the test set).
        train_scores = baseline_scores([data.frames[i] for i in train], is_energy[train])
        test_scores = baseline_scores(_fold_samples(data, test, window, fold_seed), is_energy[test])
        for name in per_fold:
            sign = 1.0 if roc_auc_score(data.labels[train], train_scores[name]) >= 0.5 else -1.0
            per_fold[name].append(float(roc_auc_score(data.labels[test], sign * test_scores[name])))
    return {name: {"auc": float(np.mean(v)), "auc_sd": float(np.std(v, ddof=1)) if len(v) > 1 else float("nan"),
                   "per_fold": v} for name, v in per_fold.items()}


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
