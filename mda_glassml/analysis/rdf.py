"""Partial RDFs of a 2D binary mixture averaged over frames (MDAnalysis face of :mod:`mda_glassml.rdf`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from MDAnalysis.analysis.results import Results

from ..errors import warn
from ..rdf import PAIRS, check_rdf_range, partial_rdfs
from .base import FrameAnalysis

__all__ = ["PartialRDF"]


class PartialRDF(FrameAnalysis):
    """AA, AB, BB and total g(r) of a 2D binary mixture, computed with freud.

    MDAnalysis' :class:`~MDAnalysis.analysis.rdf.InterRDF` returns zeros for
    2D boxes (their volume is zero); this one normalises by area. Each frame's
    g(r) is computed by :func:`mda_glassml.rdf.partial_rdfs`; the result is
    their mean over the analysed frames.

    Parameters
    ----------
    atomgroup : MDAnalysis.core.groups.AtomGroup
        The A and B particles of a 2D periodic system (all of them: densities are
        counted over the whole box, so a selection of a region warns).
    a_type, b_type : str
        Type names of the large and small particles.
    r_max : float
        Largest distance (must be below half the box's width: its shorter side, or less in a tilted box).
    n_bins : int
        Number of histogram bins between ``r_min`` and ``r_max``.
    r_min : float
        Smallest distance.

    Attributes
    ----------
    results.bins : numpy.ndarray
        Bin centres.
    results.rdf : MDAnalysis.analysis.results.Results
        ``results.rdf.AA``, ``.AB``, ``.BB`` and ``.all`` (also ``results.rdf["AA"]``):
        g(r) averaged over frames. A is ``a_type`` and B is ``b_type``.
    results.rdf_by_frame : numpy.ndarray, shape (n_frames, 4, n_bins)
        Each frame's g(r), pairs in the order AA, AB, BB, all.

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> from mda_glassml.analysis import PartialRDF
    >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
    >>> u = mda.Universe(EXAMPLE_TRAJECTORY)
    >>> liquid = PartialRDF(u.atoms, r_max=4.0, n_bins=160).run(stop=1)
    >>> glass = PartialRDF(u.atoms, r_max=4.0, n_bins=160).run(start=-1)
    >>> bool(glass.results.rdf.AA.max() > liquid.results.rdf.AA.max())   # sharper first peak
    True
    """

    _per_frame_arrays = ("rdf_by_frame",)

    def __init__(
        self,
        atomgroup: Any,
        a_type: Any = "A",
        b_type: Any = "B",
        r_max: float = 5.0,
        n_bins: int = 250,
        r_min: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(atomgroup, a_type, b_type, **kwargs)
        check_rdf_range(r_max, n_bins, self._frames().box, r_min)
        left = self.atomgroup.universe.atoms - self.atomgroup
        left_out = int(np.isin(left.types.astype(str), [self._frames.a_type, self._frames.b_type]).sum()) \
            if len(left) else 0
        if left_out:
            warn(
                f"the selection leaves out {left_out} of the trajectory's {self._frames.a_type}/"
                f"{self._frames.b_type} particles: g(r) is normalised by the selection's density over the "
                "whole box, which is right for a random subset but not for a region (there g(r) tends to the "
                "box's area over the region's at large r). For a region's structure, cut a window instead.",
            )
        self.r_max, self.n_bins, self.r_min = float(r_max), int(n_bins), float(r_min)

    def _prepare(self):
        self.results.rdf_by_frame = np.zeros((self.n_frames, len(PAIRS), self.n_bins))

    def _single_frame(self):
        bins, rdf = partial_rdfs(self._frames(), self.r_max, self.n_bins, self.r_min)
        self.results.rdf_by_frame[self._frame_index] = [rdf[p] for p in PAIRS]

    def _conclude(self):
        super()._conclude()
        edges = np.linspace(self.r_min, self.r_max, self.n_bins + 1)
        self.results.edges = edges
        self.results.bins = (edges[:-1] + edges[1:]) / 2
        mean = self.results.rdf_by_frame.mean(axis=0)
        self.results.rdf = Results(**{pair: mean[i] for i, pair in enumerate(PAIRS)})
