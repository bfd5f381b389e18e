"""Periodic nearest-neighbour graphs of a :class:`~mda_glassml.frames.Frame`, and windows.

Neighbour search is freud's (an AABB tree in the minimum-image convention);
this module only turns its answers into edge lists.

Examples
--------
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.graphs import knn, b_neighbor_edges
>>> frame = Frame.from_arrays([[0, 0], [1, 0], [3, 0], [0, 2]], ["A", "B", "A", "A"], box=[8, 8])
>>> query, neighbor, distance = knn(frame, k=1)
>>> neighbor.tolist()            # the nearest particle of each particle
[1, 0, 1, 0]
>>> b_neighbor_edges(frame, k=1, definition="directed").tolist()   # B sends its one edge
[[0, 1]]
"""

from __future__ import annotations

from typing import Any

import freud
import numpy as np

from .frames import Frame, InputError, check_k

__all__ = ["DEFINITIONS", "knn", "undirected", "b_neighbor_edges", "window", "window_mask", "neighbor_box"]

#: The two named B-neighbor graph definitions (see :mod:`mda_glassml.metrics`).
DEFINITIONS = ("symmetric", "directed")


def neighbor_box(frame: Frame) -> freud.box.Box:
    """The box freud searches in.

    freud has no open boundaries, so a window (``periodic=False``) is put in
    a periodic box three times its size: no displacement inside the window
    reaches half that box, so minimum images are the plain displacements.
    """
    if frame.periodic:
        return frame.box
    side = 3.0 * max(frame.box.Lx, frame.box.Ly)
    return freud.Box.square(side)


def knn(frame: Frame, k: int, query: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours (minimum image) of every particle, or of ``query``.

    Parameters
    ----------
    frame : Frame
    k : int
        Neighbours per query particle, 1 <= k < N.
    query : array of int, optional
        Indices of the particles whose neighbours are wanted (default: all).
        Neighbours are searched among all particles.

    Returns
    -------
    query_index, neighbor_index, distance : numpy.ndarray
        ``k`` rows per query particle, sorted by query particle then distance.
        Indices refer to the frame.
    """
    k = check_k(k, frame.n_particles)
    points = frame.points3d
    nq = freud.locality.AABBQuery(neighbor_box(frame), points)
    # freud grows its search radius from r_guess until k neighbours are found; a guess
    # a little beyond the expected k-th neighbour distance halves the query time.
    r_guess = 1.2 * np.sqrt((k + 1) / (np.pi * frame.n_particles / frame.area))
    if query is None:
        args = dict(num_neighbors=k, exclude_ii=True, r_guess=r_guess)
        nlist = nq.query(points, args).toNeighborList(sort_by_distance=True)
        qi, pj, d = nlist.query_point_indices, nlist.point_indices, nlist.distances
        n_query = frame.n_particles
    else:
        query = np.asarray(query, dtype=np.int64)
        n_query = query.size
        if n_query == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), np.empty(0, dtype=np.float32)
        # exclude_ii compares local query indices with global point indices, which is
        # wrong for a subset: ask for one more neighbour and drop the self pair by index.
        args = dict(num_neighbors=k + 1, exclude_ii=False, r_guess=r_guess)
        nlist = nq.query(points[query], args).toNeighborList(sort_by_distance=True)
        qi = query[nlist.query_point_indices]
        pj, d = nlist.point_indices, nlist.distances
        keep = pj != qi
        qi, pj, d = qi[keep], pj[keep], d[keep]
        # Particles with another particle on top of them may keep k + 1 rows: cut to k.
        if qi.size != k * n_query:
            starts = np.r_[0, np.flatnonzero(np.diff(qi)) + 1]
            rank = np.arange(qi.size) - np.repeat(starts, np.diff(np.r_[starts, qi.size]))
            first_k = rank < k
            qi, pj, d = qi[first_k], pj[first_k], d[first_k]
    if qi.size != k * n_query:
        raise InputError(
            f"freud found fewer than k={k} neighbours for some particles (the box is too sparse for "
            "minimum-image neighbours); use a smaller k or a denser configuration."
        )
    return np.asarray(qi, dtype=np.int64), np.asarray(pj, dtype=np.int64), np.asarray(d)


def undirected(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Union of directed pairs as unique undirected edges, shape (M, 2) with ``i < j``, sorted."""
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keys = lo * np.int64(n) + hi
    # sort + mask: several times faster than np.unique's hash path for millions of edges.
    keys.sort()
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if keys.size else keys
    return np.column_stack([keys // n, keys % n])


def b_neighbor_edges(frame: Frame, k: int = 2, definition: str = "symmetric") -> np.ndarray:
    """Undirected edges of the B-neighbor graph, shape (M, 2), each pair once.

    ``"symmetric"``
        k-nearest-neighbour edges from every particle, made undirected,
        keeping the edges with at least one B end (what the original code did).
    ``"directed"``
        Only B particles send edges, each to its k nearest particles of any
        type (the paper's sentence read literally), made undirected.
    """
    if definition not in DEFINITIONS:
        raise InputError(f"unknown B-neighbor graph definition {definition!r}; choose one of {DEFINITIONS}.")
    is_b = frame.is_b
    if definition == "symmetric":
        i, j, _ = knn(frame, k)
        keep = is_b[i] | is_b[j]
        i, j = i[keep], j[keep]
    else:
        i, j, _ = knn(frame, k, query=np.flatnonzero(is_b))
    return undirected(i, j, frame.n_particles)


def window_mask(frame: Frame, side: float, center: Any = None) -> np.ndarray:
    """Which particles lie in the square window of ``side`` centred on ``center`` (periodic); bool (N,).

    >>> frame = Frame.from_arrays([[0, 0], [9.5, 0], [5, 5]], ["A", "B", "A"], box=[10, 10])
    >>> window_mask(frame, 2.0).tolist()
    [True, True, False]
    """
    return _window_delta(frame, side, center)[1]


def _window_delta(frame: Frame, side: float, center: Any) -> tuple[np.ndarray, np.ndarray]:
    if not frame.periodic:
        raise InputError("windows are cut from periodic frames, not from other windows.")
    try:
        side = float(side)
    except (TypeError, ValueError):
        raise InputError(f"window side must be a length, got {side!r}.") from None
    shortest = min(frame.box.Lx, frame.box.Ly)
    if not (np.isfinite(side) and 0 < side <= shortest):
        raise InputError(
            f"window side {side} must be > 0 and no larger than the box's shorter side ({shortest:.6g})."
        )
    c = np.zeros(3, dtype=np.float32)
    if center is not None:
        c[:2] = np.asarray(center, dtype=np.float64).reshape(2)
    delta = frame.box.wrap(frame.points3d - c)[:, :2]
    inside = np.all((delta >= -side / 2) & (delta < side / 2), axis=1)
    return delta, inside


def window(frame: Frame, side: float, center: Any = None) -> Frame:
    """The particles in a square window of ``side`` (length units), as an open-boundary frame.

    The window may sit anywhere: it wraps across the periodic boundaries.
    Positions in the returned frame are relative to the window's centre.

    Parameters
    ----------
    frame : Frame
        A periodic frame.
    side : float
        Window side, 0 < side <= the box's shorter side.
    center : (float, float), optional
        Window centre in the frame's (the user's) coordinates; default (0, 0).
        Any point is valid: positions are compared modulo the box.

    Examples
    --------
    >>> frame = Frame.from_arrays([[0, 0], [9.5, 0], [5, 5]], ["A", "B", "A"], box=[10, 10])
    >>> w = window(frame, 2.0, center=(0.0, 0.0))     # wraps: x = 9.5 is x = -0.5
    >>> w.n_particles, w.periodic
    (2, False)
    """
    delta, inside = _window_delta(frame, side, center)
    side = float(side)
    return Frame(
        positions=np.ascontiguousarray(delta[inside], dtype=np.float32),
        types=frame.types[inside],
        box=freud.Box.square(side),
        periodic=False,
        index=frame.index,
        type_names=frame.type_names,
    )
