"""B-neighbor metrics per frame of a trajectory (MDAnalysis face of :mod:`mda_glassml.metrics`)."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..frames import check_k
from ..graphs import DEFINITIONS
from ..metrics import b_neighbor_metrics, metrics_window
from .base import FrameAnalysis

__all__ = ["BNeighborMetrics"]

_COUNTS = ("n_particles", "n_components", "n_bb_edges", "n_isolated_a", "n_isolated_b")
_NORMALISED = ("components_per_particle", "bb_edges_per_particle", "isolated_a_per_particle")


class BNeighborMetrics(FrameAnalysis):
    """The three B-neighbor metrics of Swanson et al. for each frame.

    On a graph that joins the small (B) particles to their ``k`` nearest
    neighbours (minimum image), count the connected components, the B–B
    edges and the isolated A particles. In a 2D Kob–Andersen mixture all
    three fall as the liquid becomes a glass. See :mod:`mda_glassml.metrics`
    for the two graph definitions.

    Parameters
    ----------
    atomgroup : MDAnalysis.core.groups.AtomGroup
        The A and B particles of a 2D system (z constant) with a periodic box.
    k : int
        Nearest neighbours (the paper: 2).
    a_type, b_type : str
        Type names of the large and the small particles (LAMMPS: ``"1"``, ``"2"``).
    definition : {"symmetric", "directed"}
        Graph definition; ``"symmetric"`` is the original code's and the default.
    window : float, optional
        Side (length units) of a square window to compute the metrics in,
        centred on ``window_center``; the window's boundaries are open. By
        default the whole periodic frame is used.
    window_center : (float, float), optional
        In the trajectory's coordinates; default the box centre (for
        MDAnalysis' boxes, which start at the origin, ``(Lx/2, Ly/2)``).
        Windows wrap across the periodic boundaries, so any centre is valid.

    Attributes
    ----------
    results.n_components, results.n_bb_edges, results.n_isolated_a : numpy.ndarray
        One count per analysed frame.
    results.n_isolated_b : numpy.ndarray
        Isolated B particles (0 for both definitions: every B has edges).
    results.n_particles : numpy.ndarray
        Particles per frame (or per window).
    results.components_per_particle, results.bb_edges_per_particle, results.isolated_a_per_particle
        The counts divided by the number of particles.
    results.frames, results.times : numpy.ndarray
        Frame indices and times of the analysed frames.

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> from mda_glassml.analysis import BNeighborMetrics
    >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
    >>> u = mda.Universe(EXAMPLE_TRAJECTORY)       # 2D Kob-Andersen, cooled from T = 2 to 0.05
    >>> m = BNeighborMetrics(u.atoms, k=2).run()
    >>> bool(m.results.n_bb_edges[0] > m.results.n_bb_edges[-1])   # fewer B-B edges in the glass
    True

    The same on two processes (identical numbers):

    >>> m2 = BNeighborMetrics(u.atoms).run(backend="multiprocessing", n_workers=2)
    >>> bool((m2.results.n_components == m.results.n_components).all())
    True
    """

    _per_frame = _COUNTS + _NORMALISED
    _counts = _COUNTS

    def __init__(
        self,
        atomgroup: Any,
        k: int = 2,
        a_type: Any = "A",
        b_type: Any = "B",
        definition: str = "symmetric",
        window: float | None = None,
        window_center: tuple[float, float] | None = None,
        **kwargs: Any,
    ):
        super().__init__(atomgroup, a_type, b_type, **kwargs)
        if definition not in DEFINITIONS:
            raise InputError(f"unknown definition {definition!r}; choose one of {DEFINITIONS}.")
        self.k = check_k(k, len(self.atomgroup))
        self.definition = definition
        self.window = window
        self.window_center = window_center
        metrics_window(self._frames(), self.k, window, window_center)  # a bad window fails now, not in run()
        if window is not None:
            self._frames.check_window_origin()

    def _single_frame(self):
        frame = self._frames()
        counts = b_neighbor_metrics(
            frame, self.k, self.definition, window=self.window, window_center=self.window_center
        ).counts()
        for key in self._per_frame:
            self.results[key][self._frame_index] = counts[key]
