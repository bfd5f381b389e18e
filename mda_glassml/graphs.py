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

import math
from typing import Any, NamedTuple, Sequence

import freud
import numpy as np
import scipy.sparse

from .errors import InputError
from .frames import Frame, check_k

__all__ = ["DEFINITIONS", "knn", "distances64", "columns64", "lay_apart", "undirected", "b_neighbor_edges", "window",
           "window_members", "window_candidates", "check_window_side", "windows_at", "window_mask", "neighbor_box", "pairs_within",
           "replicate", "square_tiles"]

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


def knn(frame: Frame, k: int, query: np.ndarray | None = None,
        density: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours (minimum image) of every particle, or of ``query``.

    Parameters
    ----------
    frame : Frame
    k : int
        Neighbours per query particle, 1 <= k < N.
    query : array of int, optional
        Indices of the particles whose neighbours are wanted (default: all).
        Neighbours are searched among all particles.
    density : float, optional
        The particles' number density where they are, for freud's first search
        radius (default: N / box area; windows laid apart by :func:`lay_apart`
        leave most of their box empty).

    Returns
    -------
    query_index, neighbor_index, distance : numpy.ndarray
        ``k`` rows per query particle, sorted by query particle index, then distance.
        Indices refer to the frame.
    """
    k = check_k(k, frame.n_particles)
    n = frame.n_particles
    query = np.arange(n, dtype=np.int64) if query is None else np.sort(np.asarray(query, dtype=np.int64))
    search = _Search.of(frame, density)
    neighbors = np.empty((query.size, k), dtype=np.int64)
    distances = np.empty((query.size, k), dtype=np.float32)

    def ask(rows: np.ndarray, n_cand: int) -> np.ndarray:
        """Fill the ``rows`` (positions in ``query``) that freud's candidates settle; return the rest."""
        pj, d, sure = _ranked_candidates(search, query[rows], k, min(n_cand, n - 1))
        neighbors[rows[sure]], distances[rows[sure]] = pj.reshape(-1, k), d.reshape(-1, k)
        return rows[~sure]

    # freud ranks in float32: ask for a few more candidates than k, rank them in float64 (ties
    # by index), and keep a particle's answer only if the last candidate is clearly farther
    # than its k-th neighbour (so no particle freud left out can tie or beat it). The rest
    # (near-ties, rare) are asked again with more candidates, then by brute force.
    # Query particles go in chunks: the candidate arrays of a chunk stay in cache (at 972,000
    # particles, twice as fast as one pass; the same answers).
    rows = np.arange(query.size)
    todo = np.concatenate([rows[:0], *(ask(rows[s:s + _CHUNK], k + _EXTRA_CANDIDATES[0])
                                       for s in range(0, query.size, _CHUNK))])
    for extra in _EXTRA_CANDIDATES[1:]:
        if todo.size:
            todo = ask(todo, k + extra)
    if todo.size:
        neighbors[todo], distances[todo] = _knn_all_pairs(frame, k, query[todo], search.columns)
    return np.repeat(query, k), neighbors.ravel(), distances.ravel()


#: Extra freud candidates per particle beyond k, per round (see :func:`knn`).
_EXTRA_CANDIDATES = (1, 8)
#: Query particles per freud query in :func:`knn`'s first round.
_CHUNK = 32768
#: A k-th neighbour is certain when the last candidate is farther by more than this times
#: (distance + box side). freud's float32 subtraction across the boundary errs by about an ulp of the box
#: side (ulp = 1.2e-7 of it), so two of its distances misorder only within ~4e-7 of the side:
#: 2e-6 keeps a five-fold margin (1e-5 sent 28 % of a 972,000-particle frame to a second round).
_TIE_GAP = 2e-6


class _Search(NamedTuple):
    """What every round of :func:`knn` on one frame shares, made once."""

    frame: Frame
    nq: Any  # freud's AABBQuery
    points: np.ndarray  # (N, 3) float32, freud's layout
    columns: tuple[np.ndarray, np.ndarray]  # x and y in float64 (columns64)
    density: float  # for freud's first search radius
    side: float  # the scale of freud's float32 errors: its box, or an open frame's largest coordinate

    @classmethod
    def of(cls, frame: Frame, density: float | None) -> "_Search":
        points = frame.points3d
        side = (max(float(frame.box.Lx), float(frame.box.Ly)) if frame.periodic
                else 2.0 * float(np.abs(frame.positions).max(initial=0.0)))
        return cls(frame, freud.locality.AABBQuery(neighbor_box(frame), points), points, columns64(frame),
                   density or frame.n_particles / frame.area, side)


def _ranked_candidates(search: _Search, query: np.ndarray, k: int, n_cand: int):
    """The k nearest of ``n_cand`` freud candidates per query particle, ranked in float64.

    Returns ``pj, d`` (k rows per query particle that is ``sure``, in query
    order) and ``sure`` (bool per query particle).
    """
    frame = search.frame
    r_guess = 1.2 * np.sqrt((n_cand + 1) / (np.pi * search.density))
    # exclude_ii compares local query indices with global point indices, which is wrong for a
    # subset: there, ask for one more neighbour and drop the self pair by index.
    whole = query.size == frame.n_particles and bool((query == np.arange(query.size)).all())
    args = dict(num_neighbors=n_cand + (not whole), exclude_ii=whole, r_guess=r_guess)
    nlist = search.nq.query(search.points[query], args).toNeighborList()
    local, pj = nlist.query_point_indices.astype(np.int64), nlist.point_indices.astype(np.int64)
    if not whole:
        keep = pj != query[local]
        local, pj = local[keep], pj[keep]
    d = distances64(frame, query[local], pj, search.columns)
    counts = np.bincount(local, minlength=query.size)
    order = _row_order(local, d, pj, counts)
    local, pj, d = local[order], pj[order], d[order]
    # Tiny boxes: freud may list a second image of a particle already found (same float64
    # distance, so it sorts next to the first); keep each once.
    dup = np.r_[False, (local[1:] == local[:-1]) & (pj[1:] == pj[:-1])]
    if dup.any():
        local, pj, d = local[~dup], pj[~dup], d[~dup]
        counts = np.bincount(local, minlength=query.size)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(local.size) - np.repeat(starts, counts)
    enough = counts >= min(n_cand, frame.n_particles - 1)  # freud found every candidate asked for
    last = np.where(counts > 0, d[np.maximum(starts + counts - 1, 0)], 0.0)
    kth = np.where(counts >= k, d[np.minimum(starts + k - 1, d.size - 1)], np.inf)
    all_found = n_cand >= frame.n_particles - 1
    sure = (counts >= k) & enough & ((last - kth > _TIE_GAP * (kth + search.side)) | all_found)
    pick = (rank < k) & sure[local]
    return pj[pick], d[pick], sure


def _row_order(local: np.ndarray, d: np.ndarray, pj: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The order by (query row, float64 distance, neighbour index) of freud's candidates.

    freud lists rows in query order with the same number of candidates each in all
    but tiny boxes: then each row is sorted on its own, a dozen times faster than a
    three-key sort of the whole list.
    """
    m = int(counts[0]) if counts.size else 0
    if m and local.size == counts.size * m and (counts == m).all() and (local[1:] >= local[:-1]).all():
        rows = np.lexsort((pj.reshape(-1, m), d.reshape(-1, m)), axis=-1)
        return (rows + m * np.arange(counts.size)[:, None]).ravel()
    return np.lexsort((pj, d, local))


def distances64(frame: Frame, i: np.ndarray, j: np.ndarray,
                columns: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Minimum-image distances from particles ``i`` to ``j`` in float64 (freud's box convention).

    ``columns``: the frame's x and y as float64 arrays (:func:`columns64`), for
    callers that ask many times about one large frame.

    >>> frame = Frame.from_arrays([[0, 0], [3.9, 0]], ["A", "B"], box=[8, 8])
    >>> distances64(frame, np.array([0]), np.array([1])).round(6).tolist()
    [3.9]
    """
    dx, dy = displacements64(frame, i, j, columns)
    return np.hypot(dx, dy, out=dx)


def displacements64(frame: Frame, i: np.ndarray, j: np.ndarray,
                    columns: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-image displacements ``(dx, dy)`` from particles ``i`` to ``j`` in float64 (see :func:`distances64`)."""
    box = neighbor_box(frame)
    lx, ly, xy = float(box.Lx), float(box.Ly), float(box.xy)
    x, y = columns or columns64(frame)
    dx, dy = x[j], y[j]
    dx -= x[i]
    dy -= y[i]
    # y first, then x, for lattice vectors (lx, 0) and (xy * ly, ly).
    shift = np.round(dy / ly)
    dy -= shift * ly
    dx -= shift * xy * ly
    dx -= np.round(dx / lx) * lx
    return dx, dy


def columns64(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """x and y as contiguous float64 columns: differences in place on them are twice as fast
    as on (N, 2) rows, with the same bits."""
    return tuple(frame.positions[:, c].astype(np.float64) for c in (0, 1))


def _knn_all_pairs(frame: Frame, k: int, query: np.ndarray,
                   columns: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``knn`` by brute force over all particles, in float64, ties by index.

    Returns (len(query), k) neighbours and their distances.
    """
    n = frame.n_particles
    if query.size * n > 5e7 and query.size > 64:  # only near-ties and tiny boxes come here
        raise InputError(f"the k={k} nearest neighbours of {query.size} of {n} particles could not be told apart "
                         "from freud's candidates (a box too sparse for minimum-image neighbours, or many "
                         "particles at exactly equal distances); use a smaller k or a denser configuration.")
    neighbors, distances = np.empty((query.size, k), dtype=np.int64), np.empty((query.size, k))
    for row, q in enumerate(query):  # one row at a time: O(N) memory
        dist = distances64(frame, np.full(n, q), np.arange(n), columns)
        dist[q] = np.inf  # not its own neighbour
        neighbors[row] = np.argsort(dist, kind="stable")[:k]
        distances[row] = dist[neighbors[row]]
    return neighbors, distances


def lay_apart(windows: Sequence[Frame]) -> tuple[Frame, np.ndarray]:
    """Open windows side by side in one open frame, for one neighbour search over all of them.

    The windows sit on a square grid whose spacing is at least three times the
    largest window side, so every particle of another window is farther than
    any particle of its own (at most side x sqrt 2 away): the k nearest
    neighbours in the laid-out frame are those within each window, for every
    window of more than k particles. Positions are float64 and the offsets
    powers of two times integers, so that float64 distances inside a window
    are those of the window itself.

    Returns the frame and ``starts`` (len(windows) + 1): window ``w`` is
    particles ``starts[w]:starts[w + 1]``.

    >>> from mda_glassml.frames import Frame
    >>> a = Frame.from_arrays([[0, 0], [1, 0]], ["A", "B"], box=[4, 4])
    >>> w = window(a, 4.0, center=(0, 0))
    >>> laid, starts = lay_apart([w, w, w])
    >>> laid.n_particles, starts.tolist(), laid.periodic
    (6, [0, 2, 4, 6], False)
    """
    if not windows or any(w.periodic for w in windows):
        raise InputError("lay_apart takes one or more open windows (periodic=False), not periodic frames.")
    side = max(max(float(w.box.Lx), float(w.box.Ly)) for w in windows)
    spacing = 2.0 ** math.ceil(math.log2(3.0 * side))
    g = math.ceil(math.sqrt(len(windows)))
    cells = np.arange(len(windows))
    offsets = (np.column_stack([cells % g, cells // g]) - (g - 1) / 2) * spacing
    counts = np.array([w.n_particles for w in windows])
    positions = np.concatenate([w.positions.astype(np.float64) for w in windows]) + np.repeat(offsets, counts, 0)
    first = windows[0]
    frame = Frame(positions, np.concatenate([w.types for w in windows]), freud.Box.square(g * spacing), False,
                  first.index, first.type_names)
    return frame, np.r_[0, np.cumsum(counts)]


def undirected(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Union of directed pairs as unique undirected edges, shape (M, 2) with ``i < j``, sorted."""
    # A sparse matrix's CSR form merges duplicates in linear time (rows by counting, then short
    # rows sorted): 4.7x faster than sorting pair keys at 972,000 particles, the same edges.
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    adjacency = scipy.sparse.csr_matrix((np.ones(lo.size, np.int8), (lo, hi)), shape=(n, n))
    adjacency.sum_duplicates()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(adjacency.indptr))
    return np.column_stack([rows, adjacency.indices.astype(np.int64)])


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

    ``center`` defaults to the box centre (:attr:`Frame.box_center`).

    >>> frame = Frame.from_arrays([[0, 0], [9.5, 0], [5, 5]], ["A", "B", "A"], box=[10, 10])
    >>> window_mask(frame, 2.0).tolist()
    [True, True, False]
    """
    return _window_delta(frame, side, center)[1]


def check_window_side(frame: Frame, side: Any) -> float:
    """``side`` as a float if windows of that side can be cut from ``frame``; else an InputError.

    >>> check_window_side(Frame.from_arrays([[0.0, 0.0], [1.0, 1.0]], ["A", "B"], box=[10, 8]), 12)
    Traceback (most recent call last):
    ...
    mda_glassml.errors.InputError: window side 12.0 must be > 0 and no larger than the box's shorter side (8).
    """
    if not frame.periodic:
        raise InputError("windows are cut from periodic frames, not from other windows.")
    try:
        if isinstance(side, bool):
            raise TypeError
        side = float(side)
    except (TypeError, ValueError):
        raise InputError(f"window side must be a length, got {side!r}.") from None
    shortest = min(frame.box.Lx, frame.box.Ly)
    if not (np.isfinite(side) and 0 < side <= shortest):
        raise InputError(
            f"window side {side} must be > 0 and no larger than the box's shorter side ({shortest:.6g})."
        )
    return side


def check_window_request(side: Any, center: Any) -> None:
    """Refuse a window centre given without a window (it would silently do nothing)."""
    if side is None and center is not None:
        raise InputError("window_center without window: give the window's side too (window=12, the side the "
                         "paper and the shipped models use).")


def _window_delta(frame: Frame, side: float, center: Any) -> tuple[np.ndarray, np.ndarray]:
    side = check_window_side(frame, side)
    c = frame.box_center if center is None else center
    try:
        c = np.asarray(c, dtype=np.float64)
    except (TypeError, ValueError):
        c = np.empty(0)
    if c.shape != (2,) or not np.isfinite(c).all():
        raise InputError(f"window_center must be two finite numbers (x, y), got {center!r}.")
    delta = _square_images(frame.box, frame.positions.astype(np.float64) - c)
    inside = np.all((delta >= -side / 2) & (delta < side / 2), axis=1)
    return delta, inside


def _square_images(box: freud.box.Box, delta: np.ndarray) -> np.ndarray:
    """The image of each displacement with ``-L/2 <= y < L/2`` and then ``-Lx/2 <= x < Lx/2``.

    In a tilted box (lattice vectors (Lx, 0) and (xy Ly, Ly)) this is not
    freud's wrap (which wraps into the parallelogram): it is the one image
    that can lie in a centred axis-aligned square of side <= min(Lx, Ly), as
    two images differ by at least Ly in y or Lx in x.
    """
    n2 = np.floor(delta[:, 1] / box.Ly + 0.5)
    x = delta[:, 0] - n2 * box.xy * box.Ly
    n1 = np.floor(x / box.Lx + 0.5)
    return np.column_stack([x - n1 * box.Lx, delta[:, 1] - n2 * box.Ly])


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
        Window centre in the frame's (the user's) coordinates; default the
        box centre (:attr:`~mda_glassml.frames.Frame.box_center`). Any point
        is valid: positions are compared modulo the box, tilted boxes
        included (every particle of whichever periodic image falls in the
        square is kept).

    Examples
    --------
    >>> frame = Frame.from_arrays([[0, 0], [9.5, 0], [5, 5]], ["A", "B", "A"], box=[10, 10])
    >>> w = window(frame, 2.0, center=(0.0, 0.0))     # wraps: x = 9.5 is x = -0.5
    >>> w.n_particles, w.periodic
    (2, False)
    """
    return window_members(frame, side, center)[0]


def window_members(frame: Frame, side: float, center: Any = None) -> tuple[Frame, np.ndarray]:
    """:func:`window` and the indices in ``frame`` of its particles (in the window's order)."""
    delta, inside = _window_delta(frame, side, center)
    side = float(side)
    cut = Frame(
        positions=np.ascontiguousarray(delta[inside], dtype=np.float32),
        types=frame.types[inside],
        box=freud.Box.square(side),
        periodic=False,
        index=frame.index,
        type_names=frame.type_names,
    )
    return cut, np.flatnonzero(inside)


def pairs_within(frame: Frame, r_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``i < j`` closer than ``r_max`` and its distance (freud, single precision: a threshold test).

    >>> frame = Frame.from_arrays([[0, 0], [0.3, 0], [5, 5]], ["A", "B", "A"], box=[10, 10])
    >>> i, j, d = pairs_within(frame, 0.5)
    >>> i.tolist(), j.tolist(), [round(float(x), 3) for x in d]
    ([0], [1], [0.3])
    """
    points = frame.points3d
    nlist = freud.locality.AABBQuery(neighbor_box(frame), points).query(
        points, {"r_max": float(r_max), "exclude_ii": True}).toNeighborList()
    i, j = nlist.query_point_indices.astype(np.int64), nlist.point_indices.astype(np.int64)
    keep = i < j
    return i[keep], j[keep], np.asarray(nlist.distances)[keep]


def replicate(frame: Frame, nx: int, ny: int) -> Frame:
    """The periodic frame of ``nx`` x ``ny`` periodic images of ``frame`` (a box ``nx`` Lx by ``ny`` Ly, same tilt).

    >>> frame = Frame.from_arrays([[0, 0], [2, 2]], ["A", "B"], box=[5, 5])
    >>> big = replicate(frame, 2, 3)
    >>> big.n_particles, big.box.Lx, big.box.Ly
    (12, 10.0, 15.0)
    """
    if not frame.periodic:
        raise InputError("only a periodic frame has periodic images to replicate; this is a window.")
    box = frame.box
    a1 = np.array([box.Lx, 0.0])
    a2 = np.array([box.xy * box.Ly, box.Ly])
    shifts = np.array([i * a1 + j * a2 for j in range(ny) for i in range(nx)])
    pos = (frame.positions.astype(np.float64)[None, :, :] + shifts[:, None, :]).reshape(-1, 2)
    big = freud.box.Box(Lx=nx * box.Lx, Ly=ny * box.Ly, xy=box.xy, is2D=True)
    wrapped = np.asarray(big.wrap(np.column_stack([pos - shifts.mean(0), np.zeros(len(pos))])))[:, :2]
    return Frame(np.ascontiguousarray(wrapped, dtype=np.float32), np.tile(frame.types, nx * ny), big, True,
                 frame.index, frame.type_names)


def window_candidates(frame: Frame, side: float, centers: np.ndarray):
    """Per window centre, the particles of the grid cells a square of ``side`` around it can reach.

    Cells: the particles binned on a grid in fractional coordinates, of cells
    no larger than ``side``; a window reaches the cells within its half side
    (widened by the tilt) plus one, a superset of its particles.
    """
    box = frame.box
    lx, ly, tilt = float(box.Lx), float(box.Ly), abs(float(box.xy))
    # cells of a quarter of the side: a window then reaches 7 x 7 cells, about 3 times its area (cells of
    # the whole side: 5 x 5 sides, 25 times); no smaller than one particle a cell on average
    per_side = max(1.0, min(4.0, math.sqrt(frame.n_particles * side * side / (lx * ly))))
    nx, ny = max(1, int(lx // (side / per_side))), max(1, int(ly // (side / per_side)))
    frac = np.mod(box.make_fractional(frame.points3d)[:, :2], 1.0)
    cell = np.minimum((frac * [nx, ny]).astype(np.int64), [nx - 1, ny - 1])
    key = cell[:, 0] * ny + cell[:, 1]
    order = np.argsort(key, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(key, minlength=nx * ny))]
    reach_x = min(nx // 2, math.ceil(side / 2 * (1 + tilt) / (lx / nx)) + 1)
    reach_y = min(ny // 2, math.ceil(side / 2 / (ly / ny)) + 1)
    c3 = np.zeros((len(centers), 3), dtype=np.float32)
    c3[:, :2] = centers
    home = np.minimum((np.mod(box.make_fractional(c3)[:, :2], 1.0) * [nx, ny]).astype(np.int64), [nx - 1, ny - 1])
    for cx, cy in home:
        xs = np.unique(np.arange(cx - reach_x, cx + reach_x + 1) % nx)
        ys = np.unique(np.arange(cy - reach_y, cy + reach_y + 1) % ny)
        keys = (xs[:, None] * ny + ys).ravel()
        yield np.sort(np.concatenate([order[bounds[q]:bounds[q + 1]] for q in keys]))


def windows_at(frame: Frame, side: float, centers: Any):
    """:func:`window_members` of ``frame`` at every centre, each cut from the particles of nearby cells only.

    Yields ``(window, members)`` per centre, the same as
    ``window_members(frame, side, center)``, in O(N) for all the centres
    together instead of O(N) per window (:func:`window_candidates`).
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    for c, candidates in zip(centers, window_candidates(frame, side, centers)):
        near = Frame(frame.positions[candidates], frame.types[candidates], frame.box, True, frame.index,
                     frame.type_names, frame.box_center)
        cut, inside = window_members(near, side, c)
        yield cut, candidates[inside]


def square_tiles(frame: Frame, side: float) -> list[Frame]:
    """Square tiles of ``side`` that cover a periodic ``frame``, for a model that sees one box size.

    - A frame whose box is already a square of ``side`` (within 1e-6): itself.
    - A frame smaller than ``side``: its periodic images replicated until
      they cover ``side``; if they make exactly a square of ``side`` (a box of
      30 for 60: 2 x 2), that periodic replica, else one open window of ``side``
      cut from it.
    - A larger (or rectangular, or tilted) frame: ``ceil(Lx / side)`` x
      ``ceil(Ly / side)`` open windows of ``side`` on an even grid, overlapping
      where the sides do not divide, so every particle is in at least one.

    >>> frame = Frame.from_arrays([[0, 0], [2, 2]], ["A", "B"], box=[30, 30])
    >>> [(t.n_particles, t.periodic, t.box.Lx) for t in square_tiles(frame, 60.0)]
    [(8, True, 60.0)]
    >>> len(square_tiles(Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], box=[130, 70]), 60.0))
    6
    """
    if not frame.periodic:
        raise InputError("tiles are cut from periodic frames, not from windows.")
    side = float(side)

    def is_the_tile(box: freud.box.Box) -> bool:
        return abs(box.xy) < 1e-12 and abs(box.Lx / side - 1) < 1e-6 and abs(box.Ly / side - 1) < 1e-6

    if is_the_tile(frame.box):
        return [frame]
    # Replicate until the shorter side holds a tile (a tilted box's square needs min(Lx, Ly) >= side).
    nx = max(1, math.ceil(side / frame.box.Lx - 1e-9))
    ny = max(1, math.ceil(side / frame.box.Ly - 1e-9))
    if nx > 1 or ny > 1:
        frame = replicate(frame, nx, ny)
        if is_the_tile(frame.box):
            return [frame]
    lx, ly = float(frame.box.Lx), float(frame.box.Ly)
    mx, my = math.ceil(lx / side - 1e-9), math.ceil(ly / side - 1e-9)
    cx = frame.box_center[0] - lx / 2 + (np.arange(mx) + 0.5) * lx / mx
    cy = frame.box_center[1] - ly / 2 + (np.arange(my) + 0.5) * ly / my
    return [w for w, _ in windows_at(frame, side, [(x, y) for y in cy for x in cx])]
