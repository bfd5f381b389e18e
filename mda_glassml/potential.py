"""The 2D Kob–Andersen potential of a frame: its energy per particle, its forces, and whether it is an inherent structure.

The potential is the one the campaigns simulate (:class:`~mda_glassml.simulation.protocol.KAModel`:
Lennard-Jones pairs truncated, not shifted, at 2.5 sigma of each pair); neighbours
come from freud. An inherent structure is a local minimum of this energy, so its
forces vanish: :func:`is_inherent_structure` tells a minimised frame from a thermal
one by its rms force per particle. Measured on the bundled example (4320
particles): 6.7 at T = 0.05 and 64 at T = 2 for thermal frames, 0.002 for their
inherent structures read back from float32 GSD (the float32 rounding of the
positions sets that floor), so the default threshold of 0.1 leaves a factor of
about 50 on either side.

Examples
--------
>>> import gsd.hoomd
>>> from mda_glassml.data import EXAMPLE_INHERENT_STRUCTURES, EXAMPLE_TRAJECTORY
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.potential import is_inherent_structure
>>> with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as thermal, gsd.hoomd.open(EXAMPLE_INHERENT_STRUCTURES) as minimised:
...     is_inherent_structure(Frame.from_gsd(thermal[-1])), is_inherent_structure(Frame.from_gsd(minimised[-1]))
(False, True)
"""

from __future__ import annotations

import numpy as np

from .frames import Frame, InputError
from .graphs import displacements64

__all__ = ["INHERENT_RMS_FORCE", "forces", "is_inherent_structure", "pair_table", "potential_energy", "rms_force"]

#: rms force per particle below which a frame is taken for an inherent structure (see the module's docstring).
INHERENT_RMS_FORCE = 0.1


def pair_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``epsilon``, ``sigma`` and the cutoff of each pair of types, as (2, 2) arrays indexed by type id."""
    from .simulation.protocol import KAModel  # noqa: PLC0415

    model = KAModel()
    a, b = model.types
    eps, sig, cut = (np.zeros((2, 2)) for _ in range(3))
    for (i, j), names in (((0, 0), (a, a)), ((0, 1), (a, b)), ((1, 1), (b, b))):
        eps[i, j], sig[i, j], cut[i, j] = model.pair(*names)
        eps[j, i], sig[j, i], cut[j, i] = eps[i, j], sig[i, j], cut[i, j]
    return eps, sig, cut


def _pairs(frame: Frame):
    """freud's list of every pair within the longest cutoff (each pair from both ends), and the pairs' tables."""
    import freud  # noqa: PLC0415

    eps, sig, cut = pair_table()
    if not frame.periodic:
        raise InputError("the potential of a frame needs its periodic box; this frame is a window with open edges.")
    nlist = freud.locality.AABBQuery(frame.box, frame.points3d).query(
        frame.points3d, {"r_max": float(cut.max()), "exclude_ii": True}).toNeighborList()
    i, j = nlist.query_point_indices.astype(np.int64), nlist.point_indices.astype(np.int64)
    ti, tj = frame.types[i], frame.types[j]
    return nlist, i, j, eps[ti, tj], sig[ti, tj], cut[ti, tj]


def potential_energy(frame: Frame) -> float:
    """Kob–Andersen potential energy per particle of ``frame`` (LJ truncated, not shifted, at 2.5 sigma).

    Of an inherent structure this is its IS energy, in the convention of the
    energies the campaigns log (``mda_glassml/is_energy``).
    """
    nlist, _, _, e, s, c = _pairs(frame)
    r = np.asarray(nlist.distances, dtype=np.float64)
    pair = np.where(r < c, 4 * e * ((s / r) ** 12 - (s / r) ** 6), 0.0)
    return float(pair.sum() / 2 / frame.n_particles)  # each pair listed from both ends


def forces(frame: Frame) -> np.ndarray:
    """(N, 2) Kob–Andersen forces on the particles (float64 pair geometry, minimum image)."""
    _, i, j, e, s, c = _pairs(frame)
    dx, dy = displacements64(frame, i, j)  # from i to j
    r = np.hypot(dx, dy)
    x = (s / r) ** 6
    # -dU/dr over r: a positive value pushes i away from j
    push = np.where(r < c, 24 * e * (2 * x * x - x) / (r * r), 0.0)
    n = frame.n_particles  # each pair is listed from both ends: summing over i gives every particle's force
    return np.column_stack([np.bincount(i, weights=-push * d, minlength=n) for d in (dx, dy)])


def rms_force(frame: Frame) -> float:
    """Root mean square of the force per particle (its 2D norm)."""
    f = forces(frame)
    return float(np.sqrt((f * f).sum(axis=1).mean()))


def is_inherent_structure(frame: Frame, tol: float = INHERENT_RMS_FORCE) -> bool:
    """Whether ``frame`` sits at a minimum of the potential: its rms force per particle is below ``tol``."""
    return rms_force(frame) < tol
