"""No-ML baselines: what a classifier has to beat before it can claim to see the glass.

Each is one number per configuration, computed without any model:

``bb_edges``
    B–B edges per particle of the B-neighbor graph (k = 2, symmetric):
    fewer in a glass (:mod:`mda_glassml.metrics`).
``vibration``
    the spread of first-neighbour distances (their coefficient of
    variation, :func:`neighbour_spread`): thermal vibration, larger in a hot
    liquid. On thermal frames of a liquid and a T = 0.05 glass this alone
    separates the classes; a model that does no better may only have learned
    the temperature.
``is_energy``
    the inherent-structure energy per particle (:func:`~mda_glassml.potential.potential_energy` of a
    minimised configuration, or the campaign's logged value): lower in a glass.

In all three a glass has the *lower* value (:data:`GLASS_IS_LOW`); code that
may not assume so (the reproduction's cross-validation) sets each direction
on training data.

Examples
--------
>>> import numpy as np
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.baselines import baseline_values
>>> grid = np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0)), -1).reshape(-1, 2) * 1.1
>>> lattice = Frame.from_arrays(grid, ["A", "B"] * 18, box=[6.6, 6.6])
>>> round(float(baseline_values([lattice])["vibration"][0]), 6)   # a perfect lattice does not vibrate
0.0
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .frames import Frame
from .graphs import knn
from .metrics import b_neighbor_metrics
from .potential import potential_energy

__all__ = ["BASELINES", "GLASS_IS_LOW", "baseline_values", "neighbour_spread", "potential_energy"]


def neighbour_spread(frame: Frame) -> float:
    """Coefficient of variation of every particle's nearest-neighbour distance (float64 kNN)."""
    _, _, d = knn(frame, 1)
    d = np.asarray(d, dtype=np.float64)
    return float(d.std() / d.mean())


#: Baselines computed from a configuration alone (the IS energy comes from a minimised one).
BASELINES: dict[str, Callable[[Frame], float]] = {
    "bb_edges": lambda f: b_neighbor_metrics(f, k=2).bb_edges_per_particle,
    "vibration": neighbour_spread,
}
#: In every baseline a glass has the lower value.
GLASS_IS_LOW = {"bb_edges": True, "vibration": True, "is_energy": True}


def baseline_values(frames: Sequence[Frame], is_energy: Sequence[float] | None = None) -> dict[str, np.ndarray]:
    """Every baseline's raw value for each configuration (windows or frames); ``is_energy`` passed through."""
    out = {name: np.array([fn(f) for f in frames], dtype=np.float64) for name, fn in BASELINES.items()}
    if is_energy is not None:
        out["is_energy"] = np.asarray(is_energy, dtype=np.float64)
    return out
