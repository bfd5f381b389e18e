"""The three B-neighbor metrics of Swanson et al. (2020), section III.2.

Reading the attention of their graph network, the authors saw that it looks
at the small (B) particles and their nearest neighbours, and derived three
counts that fall as a 2D Kob–Andersen liquid becomes a glass: on a graph of B
particles and their ``k = 2`` nearest neighbours, the number of connected
components, the number of B–B edges and the number of isolated A particles.

Two definitions of that graph are offered by name (see :doc:`/metrics` for
pictures):

``"symmetric"`` (default)
    k-nearest-neighbour edges from *every* particle, made undirected, keeping
    those with at least one B end. This is what the original code computed;
    its three counts fall monotonically with temperature as the paper's
    Figure 10 shows.
``"directed"``
    Only B particles send edges, each to its k nearest particles of any type:
    the paper's sentence read literally. Its component and isolated-A counts
    do not fall monotonically with temperature.

Examples
--------
>>> import MDAnalysis as mda
>>> from mda_glassml.data import EXAMPLE_TRAJECTORY
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.metrics import b_neighbor_metrics
>>> u = mda.Universe(EXAMPLE_TRAJECTORY)
>>> m = b_neighbor_metrics(Frame.from_atomgroup(u.atoms))   # the T = 2 liquid
>>> m.n_components > 1, m.n_bb_edges > 100
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .errors import InputError, warn
from .frames import A, B, Frame, check_k
from .graphs import b_neighbor_edges, check_window_request, window as cut_window

__all__ = ["BNeighborResult", "b_neighbor_metrics", "graph_counts"]


@dataclass(frozen=True, eq=False)
class BNeighborResult:
    """The B-neighbor graph of one frame and its counts.

    Attributes
    ----------
    n_particles : int
        Particles in the frame (or window).
    n_components : int
        Connected components among particles with at least one edge.
    n_bb_edges : int
        Edges whose two ends are B particles, each pair once.
    n_isolated_a, n_isolated_b : int
        A (B) particles with no edge. With ``"symmetric"`` and ``"directed"``
        every B particle has edges, so ``n_isolated_b`` is 0; it is kept for
        graphs (such as attention graphs) where it is not.
    edges : numpy.ndarray, shape (M, 2)
        Undirected edges, particle indices of the frame, ``i < j``.
    component : numpy.ndarray, shape (N,)
        Component label per particle, 0 .. n_components - 1, or -1 if isolated.
    isolated : numpy.ndarray, shape (N,), bool
        True for particles with no edge.
    """

    n_particles: int
    n_components: int
    n_bb_edges: int
    n_isolated_a: int
    n_isolated_b: int
    edges: np.ndarray
    component: np.ndarray
    isolated: np.ndarray

    @property
    def components_per_particle(self) -> float:
        return self.n_components / self.n_particles

    @property
    def bb_edges_per_particle(self) -> float:
        return self.n_bb_edges / self.n_particles

    @property
    def isolated_a_per_particle(self) -> float:
        return self.n_isolated_a / self.n_particles

    def counts(self) -> dict[str, float]:
        """The counts and their per-particle twins as a flat dict (one table row)."""
        return {
            "n_particles": self.n_particles,
            "n_components": self.n_components,
            "n_bb_edges": self.n_bb_edges,
            "n_isolated_a": self.n_isolated_a,
            "n_isolated_b": self.n_isolated_b,
            "components_per_particle": self.components_per_particle,
            "bb_edges_per_particle": self.bb_edges_per_particle,
            "isolated_a_per_particle": self.isolated_a_per_particle,
        }


def graph_counts(edges: np.ndarray, types: np.ndarray) -> BNeighborResult:
    """Components, B–B edges and isolated particles of any undirected graph on typed particles.

    Shared by the B-neighbor graph and graphs built from attention weights.

    Parameters
    ----------
    edges : array of int, shape (M, 2)
        Undirected edges, each pair once.
    types : array of int8, shape (N,)
        0 for A, 1 for B.
    """
    n = len(types)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    degree = np.bincount(edges.ravel(), minlength=n)
    isolated = degree == 0
    graph = csr_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n))
    n_labels, labels = connected_components(graph, directed=False)
    # Each isolated particle is a component of its own for scipy; they do not count.
    # Renumber the others 0..C-1 in scipy's order (a lookup table: no sort needed).
    used = np.zeros(n_labels, dtype=bool)
    used[labels[~isolated]] = True
    renumber = np.cumsum(used) - 1
    component = np.where(isolated, -1, renumber[labels])
    n_components = int(used.sum())
    bb = (types[edges[:, 0]] == B) & (types[edges[:, 1]] == B)
    return BNeighborResult(
        n_particles=n,
        n_components=n_components,
        n_bb_edges=int(np.count_nonzero(bb)),
        n_isolated_a=int(np.count_nonzero(isolated & (types == A))),
        n_isolated_b=int(np.count_nonzero(isolated & (types == B))),
        edges=edges,
        component=component,
        isolated=isolated,
    )


def metrics_window(frame: Frame, k: Any, window: Any = None, window_center: Any = None) -> Frame:
    """The window of ``frame`` the metrics are computed in (the frame itself without ``window``), with
    enough particles for ``k`` neighbours each."""
    check_window_request(window, window_center)
    if window is None:
        return frame
    k = check_k(k, frame.n_particles)  # k itself first; then whether the window holds enough particles
    cut = cut_window(frame, window, window_center)
    if cut.n_particles <= k:
        where = "" if frame.index is None else f" in frame {frame.index}"
        raise InputError(f"the window of side {float(window):.4g}{where} holds {cut.n_particles} particle(s); "
                         f"k={k} neighbours need at least {k + 1}: use a larger window.")
    return cut


def b_neighbor_metrics(
    frame: Frame,
    k: int = 2,
    definition: str = "symmetric",
    window: float | None = None,
    window_center: tuple[float, float] | None = None,
) -> BNeighborResult:
    """The three B-neighbor metrics of one frame.

    Parameters
    ----------
    frame : Frame
    k : int
        Nearest neighbours per particle (the paper: 2).
    definition : {"symmetric", "directed"}
        Which graph (see the module docstring).
    window : float, optional
        Side of a square window (length units) to compute the metrics in,
        instead of the whole periodic frame. Inside a window the boundaries
        are open, as in the paper's windowed analysis.
    window_center : (float, float), optional
        Window centre (default: the box centre).

    Returns
    -------
    BNeighborResult
        Counts, per-particle twins, edges, component labels, isolated flags.
        With a window, particle indices refer to the window's particles.

    Examples
    --------
    Four A particles on a square lattice of spacing 1 with one B in the
    middle of one cell (box 4 x 4, so the lattice is periodic):

    >>> import numpy as np
    >>> xy = [[x, y] for x in range(4) for y in range(4)] + [[0.5, 0.5]]
    >>> frame = Frame.from_arrays(xy, ["A"] * 16 + ["B"], box=[4, 4])
    >>> m = b_neighbor_metrics(frame, k=2, definition="directed")
    >>> m.n_components, m.n_bb_edges, m.n_isolated_a
    (1, 0, 14)
    """
    fraction = float(frame.types.mean()) if frame.n_particles else 0.0
    if fraction > 0.5:  # the whole frame's, before any window (a window's composition fluctuates)
        b = frame.type_names[1]
        warn(f"{fraction:.0%} of the particles are of b_type={b!r}: the B-neighbor metrics are about the small, "
             "minority particles (35 % in the Kob-Andersen mixture); are a_type and b_type swapped?")
    frame = metrics_window(frame, k, window, window_center)
    edges = b_neighbor_edges(frame, k, definition)
    return graph_counts(edges, frame.types)
