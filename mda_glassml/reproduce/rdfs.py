"""Figures 11 and 12: partial RDFs of a dataset's glasses against its liquids.

g(r) of every configuration (freud, through :func:`mda_glassml.rdf.partial_rdfs`)
averaged per class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..rdf import partial_rdfs

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..training.data import LabelledFrames

__all__ = ["ClassRDFs", "class_rdfs"]

PAIRS = ("AA", "AB", "BB")


@dataclass
class ClassRDFs:
    """Mean partial g(r) of the glasses and of the liquids of one dataset."""

    name: str
    r: np.ndarray
    glass: dict[str, np.ndarray]
    liquid: dict[str, np.ndarray]

    def first_peaks(self) -> dict[str, dict[str, float]]:
        """Height of each pair's first peak, glass and liquid (the glass's are higher and sharper)."""
        return {cls: {p: float(g[p].max()) for p in PAIRS} for cls, g in (("glass", self.glass),
                                                                         ("liquid", self.liquid))}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "first_peak": self.first_peaks()}

    def figure(self) -> "Figure":
        from matplotlib.figure import Figure  # noqa: PLC0415

        fig = Figure(figsize=(10.0, 3.0), layout="constrained")
        for ax, pair in zip(fig.subplots(1, len(PAIRS)), PAIRS):
            ax.plot(self.r, self.glass[pair], color="C3", label="glass")
            ax.plot(self.r, self.liquid[pair], color="C0", label="liquid")
            ax.set_xlabel("r")
            ax.set_ylabel(f"g_{pair}(r)")
            ax.legend(fontsize="small")
        fig.suptitle(f"{self.name}: partial RDFs, glass against liquid")
        return fig


def class_rdfs(name: str, data: "LabelledFrames", r_max: float = 4.0, n_bins: int = 160) -> ClassRDFs:
    """Mean partial RDFs of ``data``'s glasses (label 1) and liquids (label 0)."""
    data.require_both_classes(name)
    sums = {0: {p: np.zeros(n_bins) for p in PAIRS}, 1: {p: np.zeros(n_bins) for p in PAIRS}}
    counts = {0: 0, 1: 0}
    r = None
    for frame, label in zip(data.frames, data.labels):
        r, g = partial_rdfs(frame, r_max=r_max, n_bins=n_bins)
        for p in PAIRS:
            sums[int(label)][p] += g[p]
        counts[int(label)] += 1
    mean = {c: {p: sums[c][p] / counts[c] for p in PAIRS} for c in (0, 1)}
    return ClassRDFs(name, np.asarray(r), glass=mean[1], liquid=mean[0])
