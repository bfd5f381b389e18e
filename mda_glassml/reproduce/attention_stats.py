"""Figures 8, 9 and 16: attention graphs of a dataset-1 D-MPNN in the paper's attention setting.

The original attention run (../shared/reference/glassml-original.md): k = 2,
windows of L = 0.1 (side 6), batch 5, 2 epochs, hidden 870, depth 3,
dropout 0.5. One such model is trained on dataset 1 (grouped 60/20/20
split); on its test trajectories, ``n_windows`` window centres are drawn per
trajectory and the glass and the liquid of that trajectory are cut at the
same centres, so glass ``i`` and liquid ``i`` form a pair for the one-sided
Wilcoxon signed-rank tests of :func:`mda_glassml.attention.compare_glass_liquid`.
Windows of one frame overlap and are correlated: the p-values are those of
the paper's procedure, not of independent samples. Both cuts are reported:
the original code's fixed 0.11 and the trough of the pooled weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..attention import attention_graph, attention_metrics_table, compare_glass_liquid
from ..graphs import window as cut_window
from ..training.data import PAPER_BOX_SIDE, LabelledFrames, group_split

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..frames import Frame

__all__ = ["ATTENTION_PARAMS", "DEFAULT_VARIANTS", "attention_experiment", "attention_picture", "attention_variants",
           "variants_figure"]

#: The original attention run's hyperparameters (Table 2's names; window as a fraction of 60).
ATTENTION_PARAMS = {"k": 2, "window": 0.1, "hidden": 870, "depth": 3, "dropout": 0.5, "ffn_layers": 2,
                    "batch_size": 5}
SPLIT = (0.6, 0.2, 0.2)


def attention_picture(glass: tuple["Frame", np.ndarray], liquid: tuple["Frame", np.ndarray]) -> "Figure":
    """One glass window and one liquid window with their high-attention edges (Figure 8)."""
    from matplotlib.collections import LineCollection  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(8.0, 4.0), layout="constrained")
    for ax, (name, (frame, edges)) in zip(fig.subplots(1, 2), (("glass", glass), ("liquid", liquid))):
        pos = np.asarray(frame.positions, dtype=np.float64)
        ax.add_collection(LineCollection(pos[edges], colors="k", linewidths=1.0))
        for code, color, label in ((0, "C1", "A"), (1, "C0", "B")):
            sel = frame.types == code
            ax.scatter(pos[sel, 0], pos[sel, 1], s=60 if code == 0 else 40, color=color, label=label, zorder=2)
        ax.set_aspect("equal")
        ax.set_title(f"{name}: high-attention edges")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize="small", loc="upper right")
    return fig


def attention_experiment(data: LabelledFrames, out: str | Path, epochs: int = 2, n_windows: int = 20,
                         params: dict[str, Any] | None = None, seed: int = 0,
                         options: dict[str, Any] | None = None, device: str = "cpu") -> dict[str, Any]:
    """Train the attention model on ``data`` (dataset 1) and test glass against liquid; a JSON-able summary.

    ``options`` go to the D-MPNN builder (e.g. ``readout="sum"``, the paper's
    equation 8, or ``windows_per_frame``); ``device`` is torch's, for training.
    """
    from ..classify import Classifier  # noqa: PLC0415
    from ..training.loop import TrainConfig  # noqa: PLC0415
    from ..training.pipeline import train_model  # noqa: PLC0415

    params = {**ATTENTION_PARAMS, **(params or {})}
    out = Path(out)
    config = TrainConfig(epochs=epochs, seed=seed, progress=False, device=device)
    card = train_model(data, out, "dmpnn", params=params, config=config, fractions=SPLIT, **(options or {}))
    clf = Classifier(out / "model.pt")
    test = data.subset(group_split(data.groups, SPLIT, seed=seed)[2])
    side = params["window"] * PAPER_BOX_SIDE
    rng = np.random.default_rng([seed, 9])
    graphs: dict[int, list[tuple[Any, Any, Any]]] = {0: [], 1: []}
    kept: dict[int, list[Any]] = {0: [], 1: []}
    for group in dict.fromkeys(test.groups):
        idx = {int(test.labels[i]): i for i in np.flatnonzero(test.groups == group)}
        if set(idx) != {0, 1}:
            continue
        box = test.frames[idx[1]].box
        for center in (rng.random((n_windows, 2)) - 0.5) * [box.Lx, box.Ly]:
            for label, i in idx.items():
                w = cut_window(test.frames[i], side, center)
                edges, weights = clf.attention(w)
                graphs[label].append((edges, weights, w.types))
                kept[label].append(w)
    result: dict[str, Any] = {"params": params, "options": dict(options or {}), "epochs": epochs,
                              "test_auc": card["scores"]["test_auc"],
                              "n_pairs": len(graphs[1]), "n_test_trajectories": int(len(set(test.groups))),
                              "cuts": {}}
    for cut in ("paper", "trough"):
        try:
            pooled = attention_metrics_table(graphs[1] + graphs[0], cut=cut)["cut"][0] if cut == "trough" else cut
        except InputError as err:  # e.g. weights with one mode: no trough to cut at; said in the report
            result["cuts"][cut] = {"error": str(err)}
            continue
        tables = {label: attention_metrics_table(graphs[label], cut=pooled) for label in (0, 1)}
        cmp = compare_glass_liquid(tables[1], tables[0])
        result["cuts"][cut] = {
            "cut": float(tables[1]["cut"][0]),
            "tests": {m: {"pvalue": t.pvalue, "alternative": t.alternative, "median_glass": t.median_glass,
                          "median_liquid": t.median_liquid, "n": t.n} for m, t in cmp.tests.items()},
        }
        result["cuts"][cut]["comparison_figure"] = cmp
    first = {label: (kept[label][0], attention_graph(*graphs[label][0], cut="paper").edges) for label in (0, 1)}
    result["picture"] = attention_picture(first[1], first[0])
    return result


#: What the trend could hang on (issue: cut rule, window size, training length, readout, which model): each
#: variant changes one thing of the original run; ``params`` and ``options`` as in attention_experiment.
DEFAULT_VARIANTS: tuple[dict[str, Any], ...] = (
    {"name": "original", "epochs": 2},
    {"name": "10 epochs", "epochs": 10},
    {"name": "sum readout (eq. 8)", "epochs": 2, "options": {"readout": "sum"}},
    {"name": "windows L = 0.2", "epochs": 2, "params": {"window": 0.2}},
    {"name": "small model (hidden 64, dropout 0)", "epochs": 10, "params": {"hidden": 64, "dropout": 0.0}},
)


def attention_variants(data: LabelledFrames, out: str | Path, variants: tuple[dict[str, Any], ...] = DEFAULT_VARIANTS,
                       n_windows: int = 20, seed: int = 0, base_params: dict[str, Any] | None = None,
                       device: str = "cpu") -> list[dict[str, Any]]:
    """:func:`attention_experiment` once per variant (one folder each); per variant its AUC and test results.

    Each row: the variant's name, epochs, parameters and options, its test
    AUC, and for each cut (``"paper"``, ``"trough"``) the one-sided p-value
    and the glass and liquid medians of every metric (or the reason the cut
    does not apply).
    """
    rows = []
    for k, v in enumerate(variants):
        params = {**(base_params or {}), **v.get("params", {})}
        res = attention_experiment(data, Path(out) / f"variant{k}", epochs=v["epochs"], n_windows=n_windows,
                                   params=params, seed=seed, options=v.get("options"), device=device)
        cuts = {}
        for cut, r in res["cuts"].items():
            cuts[cut] = r if "error" in r else {"cut": r["cut"], "tests": r["tests"]}
        rows.append({"name": v["name"], "epochs": v["epochs"], "params": res["params"], "options": res["options"],
                     "test_auc": res["test_auc"], "n_pairs": res["n_pairs"], "cuts": cuts})
    return rows


def variants_figure(rows: list[dict[str, Any]], cut: str = "paper") -> "Figure":
    """-log10 p of each metric's one-sided test per variant at ``cut`` (dashed: p = 0.05)."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    metrics = sorted({m for r in rows if "tests" in r["cuts"].get(cut, {}) for m in r["cuts"][cut]["tests"]})
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    width = 0.8 / max(len(metrics), 1)
    for j, m in enumerate(metrics):
        p = [r["cuts"][cut]["tests"][m]["pvalue"] if "tests" in r["cuts"].get(cut, {}) else np.nan for r in rows]
        ax.bar(x + (j - (len(metrics) - 1) / 2) * width, -np.log10(np.clip(p, 1e-300, 1)), width, label=m)
    for i, r in enumerate(rows):
        if "tests" not in r["cuts"].get(cut, {}):
            ax.text(i, 0.1, "no such cut\n(one mode)", ha="center", va="bottom", fontsize="x-small", color="0.4")
    ax.axhline(-np.log10(0.05), color="k", ls="--", lw=1, label="p = 0.05")
    ax.set_xlim(-0.6, len(rows) - 0.4)
    # -log10 p >= 0; from 0, the "no such cut" notes stay inside the axes even with no bars (the layout collapsed)
    ax.set_ylim(bottom=0)
    ax.set_xticks(x, [r["name"] for r in rows], rotation=20, ha="right", fontsize="small")
    ax.set_ylabel("-log10 p (one-sided, the paper's direction)")
    ax.set_title(f"Attention metrics, glass vs liquid, per training variant (cut: {cut})")
    ax.legend(fontsize="x-small", loc="upper right")
    return fig
