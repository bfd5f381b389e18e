"""Partial radial distribution functions of a 2D binary mixture, by freud.

MDAnalysis' ``InterRDF`` divides by the box volume, which is zero for a 2D
box (Lz = 0), so it returns zeros; freud normalises by area in 2D.

g(r) is normalised so that it tends to 1 at large r for an ideal gas: pairs
within one set (AA, BB, all) use freud's ``finite_size`` mode (N - 1 partners
per particle), pairs between disjoint sets (AB) its ``exact`` mode.

Examples
--------
>>> import MDAnalysis as mda
>>> from mda_glassml.data import EXAMPLE_TRAJECTORY
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.rdf import partial_rdfs
>>> u = mda.Universe(EXAMPLE_TRAJECTORY)
>>> bins, g = partial_rdfs(Frame.from_atomgroup(u.atoms), r_max=5.0, n_bins=100)
>>> sorted(g)
['AA', 'AB', 'BB', 'all']
>>> bool(abs(g["all"][-10:].mean() - 1) < 0.1)
True
"""

from __future__ import annotations

from functools import lru_cache

import freud
import numpy as np

from .errors import InputError
from .frames import Frame, box_width

__all__ = ["PAIRS", "partial_rdfs", "check_rdf_range"]

#: Pair labels, A = a_type and B = b_type.
PAIRS = ("AA", "AB", "BB", "all")


def check_rdf_range(r_max: float, n_bins: int, box: freud.box.Box, r_min: float = 0.0) -> None:
    """Refuse ranges freud cannot histogram in this box (with a message saying why)."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise InputError(f"n_bins must be a whole number >= 1, got {n_bins!r}.")
    for name, value in (("r_max", r_max), ("r_min", r_min)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise InputError(f"{name} must be a distance (a number), got {value!r}.")
    if not (np.isfinite(r_max) and np.isfinite(r_min) and 0 <= r_min < r_max):
        raise InputError(f"need 0 <= r_min < r_max, got r_min={r_min}, r_max={r_max}.")
    half = box_width(box) / 2
    if r_max >= half:
        # the tilt binds when the x sides, brought together by it, are closer than Ly
        tilted = f" (the tilt xy={box.xy:.4g} brings the x sides {2 * half:.6g} apart)" if 2 * half < box.Ly else ""
        raise InputError(
            f"r_max={r_max} must be smaller than half the box's width ({half:.6g}){tilted}: "
            "beyond that, minimum-image distances are not all counted."
        )


@lru_cache(maxsize=16)
def _calculator(n_bins: int, r_max: float, r_min: float, mode: str) -> freud.density.RDF:
    # Building a freud RDF costs ~35 ms (more than computing one frame): reuse them.
    return freud.density.RDF(n_bins, r_max, r_min, normalization_mode=mode)


def partial_rdfs(
    frame: Frame, r_max: float = 5.0, n_bins: int = 250, r_min: float = 0.0
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """g(r) for AA, AB, BB and all pairs of one periodic frame.

    Returns
    -------
    bin_centers : numpy.ndarray, shape (n_bins,)
    rdf : dict
        ``{"AA": g, "AB": g, "BB": g, "all": g}``; a pair with fewer than one
        partner per particle (e.g. BB with a single B) gives zeros.
    """
    if not frame.periodic:
        raise InputError("RDFs need a periodic frame; windows have open edges.")
    check_rdf_range(r_max, n_bins, frame.box, r_min)
    points = frame.points3d
    sets = {"A": points[frame.types == 0], "B": points[frame.types == 1], "all": points}
    rdf = {}
    centers = None
    for label, (p, q) in {"AA": ("A", "A"), "AB": ("B", "A"), "BB": ("B", "B"), "all": ("all", "all")}.items():
        same = p == q
        calc = _calculator(int(n_bins), float(r_max), float(r_min), "finite_size" if same else "exact")
        if centers is None:
            centers = np.asarray(calc.bin_centers)
        if len(sets[p]) < (2 if same else 1) or len(sets[q]) < 1:
            rdf[label] = np.zeros(n_bins)
            continue
        calc.compute((frame.box, sets[p]), query_points=None if same else sets[q])
        rdf[label] = np.asarray(calc.rdf, dtype=np.float64)
    return centers, rdf
