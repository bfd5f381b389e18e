"""Figures: the B-neighbor metrics along a trajectory, partial RDFs, training curves,
classification along a trajectory and the attention metrics of glasses against liquids.

Built on :class:`matplotlib.figure.Figure` directly (no pyplot), so they work
headless and never touch a GUI backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .errors import InputError

if TYPE_CHECKING:
    from .attention import GlassLiquidComparison

__all__ = ["metrics_figure", "rdf_figure", "training_figure", "classification_figure", "glass_liquid_figure"]

#: Axis labels of the metrics (B-neighbor and attention-graph counts).
_LABELS = {
    "n_components": "connected components",
    "n_bb_edges": "B–B edges",
    "n_isolated_a": "isolated A particles",
    "n_isolated_b": "isolated B particles",
    "components_per_particle": "components / particle",
    "bb_edges_per_particle": "B–B edges / particle",
    "isolated_a_per_particle": "isolated A / particle",
    "isolated_b_per_particle": "isolated B / particle",
}
_METRICS = tuple((key, _LABELS[key]) for key in ("n_components", "n_bb_edges", "n_isolated_a"))


def metrics_figure(
    columns: Mapping[str, Sequence[float]], x: str = "frame", title: str | None = None
) -> Figure:
    """Three panels: components, B–B edges and isolated A against ``x`` (a column name).

    >>> fig = metrics_figure({"frame": [0, 1], "n_components": [5, 2], "n_bb_edges": [9, 3],
    ...                       "n_isolated_a": [40, 20]})
    >>> len(fig.axes)
    3
    """
    if x == "frame" and "frame" not in columns and "frames" in columns:
        x = "frames"  # an analysis' results (MDAnalysis names the column "frames")
    missing = [key for key in (x, *(k for k, _ in _METRICS)) if key not in columns]
    if missing:
        raise InputError(f"metrics_figure needs the columns {', '.join(map(repr, missing))}; these have "
                         f"{', '.join(map(repr, columns))}.")
    fig = Figure(figsize=(10, 3.2), layout="constrained")
    axes = fig.subplots(1, 3, sharex=True)
    xs = np.asarray(columns[x], dtype=float)
    order = np.argsort(xs, kind="stable")
    for ax, (key, label) in zip(axes, _METRICS):
        ax.plot(xs[order], np.asarray(columns[key], dtype=float)[order], "o-", ms=3)
        ax.set_xlabel("temperature" if x == "temperature" else x)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def rdf_figure(bins: np.ndarray, rdf: Mapping[str, np.ndarray], names: tuple[str, str] = ("A", "B")) -> Figure:
    """g(r) of each pair on one axis; ``names`` are the user's type names for the legend."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    a, b = names
    labels = {"AA": f"{a}–{a}", "AB": f"{a}–{b}", "BB": f"{b}–{b}", "all": "all"}
    for pair, g in rdf.items():
        ax.plot(bins, g, label=labels.get(pair, pair), lw=1.5 if pair != "all" else 1.0,
                color="k" if pair == "all" else None)
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("r")
    ax.set_ylabel("g(r)")
    ax.legend()
    return fig


def training_figure(history: Sequence[Mapping[str, float]], title: str | None = None) -> Figure:
    """Training loss, validation loss and validation AUC per epoch (a training run's ``history``).

    >>> fig = training_figure([{"epoch": 0, "loss": 0.7, "val_loss": 0.6, "val_auc": 0.8},
    ...                        {"epoch": 1, "loss": 0.4, "val_loss": 0.5, "val_auc": 0.9}])
    >>> len(fig.axes)
    2
    """
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax_loss, ax_auc = fig.subplots(1, 2, sharex=True)
    epochs = [h["epoch"] + 1 for h in history]
    ax_loss.plot(epochs, [h["loss"] for h in history], "o-", ms=3, label="training")
    if history and "val_loss" in history[0]:
        ax_loss.plot(epochs, [h["val_loss"] for h in history], "o-", ms=3, label="validation")
        ax_auc.plot(epochs, [h["val_auc"] for h in history], "o-", ms=3, color="C1")
    ax_loss.set_ylabel("binary cross-entropy")
    ax_loss.legend()
    ax_auc.set_ylabel("validation AUC")
    for ax in (ax_loss, ax_auc):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def classification_figure(columns: Mapping[str, Sequence[float]], x: str = "frame", title: str | None = None,
                          crossing: float | None = None) -> Figure:
    """P(glass) and the three B-neighbor metrics against ``x`` (frame or temperature), four panels.

    ``crossing``: where P(glass) crosses 0.5 (e.g. from
    :func:`mda_glassml.classify.crossing_temperature`), marked and labelled on
    the P(glass) panel.

    >>> fig = classification_figure({"temperature": [2.0, 0.05], "p_glass": [0.1, 0.9], "n_components": [5, 2],
    ...                              "n_bb_edges": [9, 3], "n_isolated_a": [40, 20]}, x="temperature", crossing=0.4)
    >>> len(fig.axes), fig.axes[0].get_legend().get_texts()[0].get_text()
    (4, 'P(glass) = 0.5 at T = 0.400')
    """
    fig = Figure(figsize=(13, 3.2), layout="constrained")
    axes = fig.subplots(1, 4, sharex=True)
    xs = np.asarray(columns[x], dtype=float)
    order = np.argsort(xs, kind="stable")
    panels = (("p_glass", "P(glass)"),) + _METRICS
    for ax, (key, label) in zip(axes, panels):
        ax.plot(xs[order], np.asarray(columns[key], dtype=float)[order], "o-", ms=3,
                color="C3" if key == "p_glass" else None)
        ax.set_xlabel("temperature" if x == "temperature" else x)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(-0.03, 1.03)
    axes[0].axhline(0.5, color="0.6", lw=0.8, ls="--")
    if crossing is not None and np.isfinite(crossing):
        at = f"T = {crossing:.3f}" if x == "temperature" else f"{x} {crossing:.4g}"
        axes[0].axvline(crossing, color="k", lw=0.9, ls=":", label=f"P(glass) = 0.5 at {at}")
        axes[0].legend(loc="best", fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def glass_liquid_figure(comparison: "GlassLiquidComparison") -> Figure:
    """Paired box plots of :func:`~mda_glassml.attention.compare_glass_liquid`'s result, one panel per
    metric, pairs joined by lines, p-values in the titles (``comparison.figure()`` draws it too)."""
    n = len(comparison.tests)
    fig = Figure(figsize=(3.2 * n, 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, t in zip(axes, comparison.tests.values()):
        g, l = comparison.glass[t.metric], comparison.liquid[t.metric]
        ax.plot(np.repeat([[1.0], [2.0]], t.n, axis=1), np.vstack([g, l]), color="0.6", lw=0.6, alpha=0.5)
        box = ax.boxplot([g, l], positions=[1, 2], widths=0.45, patch_artist=True, showfliers=False,
                         medianprops={"color": "k"})
        for patch, colour in zip(box["boxes"], ("tab:blue", "tab:orange")):
            patch.set_facecolor(colour)
            patch.set_alpha(0.45)
        ax.set_xticks([1, 2], ["glass", "liquid"])
        ax.set_ylabel(_LABELS.get(t.metric, t.metric))
        side = {"less": "glass < liquid", "greater": "glass > liquid", "two-sided": "two-sided"}[t.alternative]
        ranked = "" if t.n_ranked in (None, t.n) else f", {t.n_ranked} differ"
        ax.set_title(f"p = {t.pvalue:.2g} ({side}, n = {t.n}{ranked})", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    return fig
