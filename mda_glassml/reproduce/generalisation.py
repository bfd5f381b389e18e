"""Figures 6 and 7: the nested-CV fold models tested on other datasets and on other window sizes.

Figure 6: the model of outer fold ``k`` trained on dataset ``i`` is scored on
dataset ``j``'s outer test fold ``k`` (the same samples nested_cv scored:
windows drawn from the fold's seed). Datasets 1-5 come from the same runs
and share their fold assignment, so a fold model never sees a run of the
test fold it is scored on; dataset 6's runs are other runs altogether. The
diagonal is therefore each dataset's own nested-CV AUC.

Figure 7: the dataset-1 D-MPNN of each fold scored on dataset 1's test fold
cut into windows of other sides (fractions of the paper's box side, 60) and
on whole frames.

Both sit beside the no-ML baselines of :mod:`mda_glassml.reproduce.auc` on
the same samples (for Figure 6 a baseline's direction is set on the
training dataset, as a model's weights are).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..models.bundle import load_bundle
from ..training.data import PAPER_BOX_SIDE, LabelledFrames, outer_folds
from ..training.loop import predict_logits, scores
from .auc import baseline_aucs, fold_test_samples

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["fold_scores", "cross_dataset_matrix", "size_generalisation", "matrix_figure", "size_figure"]


def fold_scores(bundle_path: str | Path, data: LabelledFrames, test: np.ndarray, window_fraction: float | None,
                fold_seed: int, windows_per_frame: int = 1) -> tuple[float, float]:
    """(AUC, accuracy) of one saved fold model on ``data[test]``, sampled as nested_cv samples its test fold."""
    import torch  # noqa: PLC0415

    bundle = load_bundle(bundle_path)
    if hasattr(bundle.featurizer, "graph"):
        from torch_geometric.data import Batch  # noqa: PLC0415

        window = None if window_fraction is None else window_fraction * PAPER_BOX_SIDE
        cut, labels, _ = fold_test_samples(data, test, window, fold_seed, windows_per_frame)
        samples = [bundle.featurizer.graph(f, y) for f, y in zip(cut, labels)]
        collate = lambda s: Batch.from_data_list(list(s))  # noqa: E731
    else:  # a CNN: whole rendered frames
        frames, labels, _ = fold_test_samples(data, test, None, fold_seed)
        images = np.ascontiguousarray(bundle.featurizer.images(frames).transpose(0, 3, 1, 2))
        samples = list(images)
        collate = lambda s: torch.from_numpy(np.stack(s))  # noqa: E731
    with torch.inference_mode():
        logits = predict_logits(bundle.model, samples, collate)
    return scores(labels, logits)


def _folds(data: LabelledFrames, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return outer_folds(data.groups, n_folds=n_folds, seed=seed)


def cross_dataset_matrix(cv_dir: str | Path, datasets: dict[str, LabelledFrames], model: str,
                         window_fraction: float | None, n_folds: int = 3, seed: int = 0,
                         windows_per_frame: int = 1) -> dict[str, Any]:
    """Mean outer-fold AUC of ``model`` trained on each dataset (rows) and tested on each (columns)."""
    names = list(datasets)
    folds = {n: _folds(d, n_folds, seed) for n, d in datasets.items()}
    auc = np.full((len(names), len(names)), np.nan)
    for a, train_name in enumerate(names):
        for b, test_name in enumerate(names):
            per_fold = [fold_scores(Path(cv_dir) / train_name / model / f"fold{k}" / "model.pt", datasets[test_name],
                                    folds[test_name][k][1], window_fraction, seed + 1000 * k, windows_per_frame)[0]
                        for k in range(n_folds)]
            auc[a, b] = float(np.mean(per_fold))
    return {"datasets": names, "model": model, "auc": auc.tolist()}


def size_generalisation(cv_dir: str | Path, name: str, data: LabelledFrames, fractions: Sequence[float | None],
                        n_folds: int = 3, seed: int = 0, windows_per_frame: int = 1,
                        is_energy: np.ndarray | None = None) -> dict[str, Any]:
    """AUC (mean ± sd over folds) of dataset ``name``'s D-MPNN on windows of each fraction (None: whole frames).

    With ``is_energy`` (the frames' IS energies), every row also holds the
    no-ML baselines on the same windows (:func:`~mda_glassml.reproduce.auc.baseline_aucs`).
    """
    folds = _folds(data, n_folds, seed)
    rows = []
    for frac in fractions:
        per_fold = [fold_scores(Path(cv_dir) / name / "dmpnn" / f"fold{k}" / "model.pt", data, folds[k][1], frac,
                                seed + 1000 * k, windows_per_frame)[0] for k in range(n_folds)]
        row = {"window_fraction": frac, "window_side": None if frac is None else frac * PAPER_BOX_SIDE,
               "auc": float(np.mean(per_fold)), "auc_sd": float(np.std(per_fold, ddof=1)), "per_fold": per_fold}
        if is_energy is not None:
            row["baselines"] = baseline_aucs(data, is_energy, frac, n_folds=n_folds, seed=seed,
                                             windows_per_frame=windows_per_frame)
        rows.append(row)
    return {"dataset": name, "sizes": rows}


_TITLES = {"dmpnn": "D-MPNN", "cnn": "CNN", "bb_edges": "no ML: B–B edges", "vibration": "no ML: vibration",
           "is_energy": "no ML: IS energy"}


def matrix_figure(matrices: dict[str, dict[str, Any]], title: str = "Cross-dataset AUC (Figure 6)") -> "Figure":
    """One heat map per model (or baseline): rows trained on, columns tested on (Figure 6)."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(4.2 * len(matrices), 3.8), layout="constrained")
    for ax, (model, m) in zip(np.atleast_1d(fig.subplots(1, len(matrices))), matrices.items()):
        a = np.asarray(m["auc"])
        im = ax.imshow(a, vmin=0.5, vmax=1.0, cmap="viridis")
        labels = [n.replace("dataset", "") for n in m["datasets"]]
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                ax.text(j, i, f"{a[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="w" if a[i, j] < 0.8 else "k")
        ax.set_xlabel("tested on dataset")
        ax.set_ylabel("trained on dataset")
        ax.set_title(_TITLES.get(model, model))
        fig.colorbar(im, ax=ax, shrink=0.8, label="AUC")
    fig.suptitle(title)
    return fig


def size_figure(result: dict[str, Any], trained_fraction: float) -> "Figure":
    """AUC against window side, whole frames at the right (Figure 7)."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    rows = result["sizes"]
    windowed = [r for r in rows if r["window_fraction"] is not None]
    whole = [r for r in rows if r["window_fraction"] is None]
    fig = Figure(figsize=(5.0, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar([r["window_fraction"] for r in windowed], [r["auc"] for r in windowed],
                yerr=[r["auc_sd"] for r in windowed], fmt="o-", label="windows")
    if whole:
        ax.errorbar([max(r["window_fraction"] for r in windowed) + 0.05], [whole[0]["auc"]], yerr=[whole[0]["auc_sd"]],
                    fmt="s", color="C3", label="whole frames")
    for base, marker in (("bb_edges", "v"), ("vibration", "s"), ("is_energy", "o")):
        if windowed and "baselines" in windowed[0]:
            ax.plot([r["window_fraction"] for r in windowed], [r["baselines"][base]["auc"] for r in windowed],
                    marker=marker, color="0.4", ls="--", lw=0.8, ms=4, label=f"no ML: {base.replace('_', ' ')}")
            if whole and "baselines" in whole[0]:
                ax.plot([max(r["window_fraction"] for r in windowed) + 0.05], [whole[0]["baselines"][base]["auc"]],
                        marker=marker, color="0.4", ms=4, ls="none")
    ax.axvline(trained_fraction, color="k", ls=":", lw=1, label=f"trained at L = {trained_fraction}")
    ax.set_xlabel("window side L (fraction of 60)")
    ax.set_ylabel("AUC (mean ± sd over folds)")
    ax.set_title(f"Size generalisation, {result['dataset']} D-MPNN (Figure 7)")
    ax.legend(fontsize="x-small")
    return fig
