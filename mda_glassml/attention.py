"""Attention graphs: the D-MPNN's high-attention edges, their metrics and statistics.

Swanson *et al.* (2020, section III.2) put a self-attention on the directed
edges of their graph network and looked at which edges it weighted highly.
In glasses the high-attention edges formed one large connected graph, in
liquids many small ones; liquids had B particles joined to each other by
high-attention edges and more A particles left out. Figure 9 of the paper
counts this on windows of dataset 1 and tests glass against liquid with
one-sided Wilcoxon signed-rank tests. This module does the same, given per
edge weights from any model:

1. **Rescale** each graph's weights to ``w' = 4 (a - min) / (max - min) + 0.1``
   (:func:`rescale_weights`), the original code's rule, so that every graph's
   weights span [0.1, 4.1] whatever its size (a softmax over ``E`` edges makes
   the raw weights scale as ``1 / E``).
2. **Cut**: a directed edge is *high* if ``w' > cut``. ``cut="paper"`` is the
   original code's fixed 0.11, i.e. a raw weight above ``min + 0.25 %`` of the
   graph's range: it keeps every edge not pressed against the floor, and
   means "high attention" only when most weights are nearly negligible, as
   the paper's appendix F saw ("a clear trough in the distribution of
   attention weights that separated those with small, almost negligible
   magnitudes and those with larger magnitudes"). A model trained otherwise
   may put no weight near the floor and then 0.11 keeps nearly everything, so
   ``cut="trough"`` places the cut in that trough, found from the data
   (:func:`trough_cut`); a number is used as is.
3. **Graph**: an undirected pair is kept if *either* direction is high (the
   original code's rule), and the graph is counted as the B-neighbor graph
   is (:func:`mda_glassml.metrics.graph_counts`): connected components among
   particles with at least one kept edge, B–B edges, isolated A and B.

The original code took the softmax over all edges of a whole mini-batch,
which couples the graphs of a batch; the weights here are expected per graph
(a softmax per graph, or any non-negative scores: only their order and
relative spacing matter after rescaling).

Examples
--------
Four particles on a ring, B A B A; the edges into particle 2 and the edge
from 3 to 0 stand out:

>>> import numpy as np
>>> from mda_glassml.attention import attention_graph
>>> edge_index = np.array([[0, 1, 1, 2, 2, 3, 3, 0],
...                        [1, 0, 2, 1, 3, 2, 0, 3]])
>>> alpha = np.array([0.01, 0.01, 0.40, 0.01, 0.01, 0.40, 0.15, 0.01])
>>> g = attention_graph(edge_index, alpha, types=np.array([1, 0, 1, 0], np.int8))
>>> g.edges.tolist()
[[0, 3], [1, 2], [2, 3]]
>>> g.n_components, g.n_bb_edges, g.n_isolated_a, g.n_isolated_b
(1, 0, 0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np
from scipy.signal import find_peaks
from scipy.stats import gaussian_kde, wilcoxon

from .errors import GlassMLWarning, InputError, warn
from .graphs import undirected
from .metrics import BNeighborResult, graph_counts

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PAPER_CUT",
    "rescale_weights",
    "trough_cut",
    "high_attention",
    "attention_graph",
    "attention_metrics_table",
    "compare_glass_liquid",
    "MetricTest",
    "GlassLiquidComparison",
    "AttentionWarning",
]


class AttentionWarning(GlassMLWarning):
    """Attention results that say little: a cut that keeps nearly every edge (or none), a test on few pairs."""

#: The original code's fixed cut on rescaled weights (``w' > 0.11``).
PAPER_CUT = 0.11

#: Rescaled weights lie in [RESCALED_MIN, RESCALED_MIN + RESCALED_SPAN].
RESCALED_MIN, RESCALED_SPAN = 0.1, 4.0

#: The three metrics of the paper's Figure 9.
FIGURE9_METRICS = ("n_components", "n_bb_edges", "n_isolated_a")
#: Default one-sided alternatives for glass - liquid: glasses have fewer of each (the paper's finding).
DEFAULT_ALTERNATIVES = {
    "n_components": "less",
    "n_bb_edges": "less",
    "n_isolated_a": "less",
    "components_per_particle": "less",
    "bb_edges_per_particle": "less",
    "isolated_a_per_particle": "less",
}
ALTERNATIVES = ("less", "greater", "two-sided")

#: Fewest pairs :func:`compare_glass_liquid` accepts (one-sided p can reach 2**-6 ~ 0.016).
MIN_PAIRS = 6

#: A cut that keeps more than this fraction of the directed edges leaves the k-NN graph nearly whole (a warning).
NEARLY_ALL = 0.95

#: The columns of :func:`attention_metrics_table` (besides ``cut``), and of the attention analysis.
TABLE_METRICS = ("n_particles", "n_components", "n_bb_edges", "n_isolated_a", "n_isolated_b",
                 "components_per_particle", "bb_edges_per_particle", "isolated_a_per_particle",
                 "isolated_b_per_particle", "fraction_high")

# --------------------------------------------------------------------------- validation


def _array(x: Any) -> np.ndarray:
    """A numpy array from array-likes, torch tensors included (detached, on the CPU; no torch import)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _check_weights(weights: Any, what: str = "weights") -> np.ndarray:
    if np.iscomplexobj(_array(weights)):  # numpy would drop the imaginary part with a ComplexWarning
        raise InputError(f"{what} must be real numbers, one per directed edge; got complex values.")
    try:
        w = _array(weights).astype(np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be numbers, one per directed edge.") from None
    if w.ndim != 1:
        raise InputError(f"{what} must be one number per directed edge, shape (E,); got shape {w.shape}.")
    if w.size == 0:
        raise InputError(f"{what} is empty: the graph has no edges, so it has no attention to rescale.")
    if not np.all(np.isfinite(w)):
        raise InputError(f"{what} holds {np.count_nonzero(~np.isfinite(w))} NaN or infinite value(s).")
    if np.any(w < 0):
        raise InputError(
            f"{what} holds negative values (smallest {w.min():g}); attention weights are non-negative "
            "(a softmax). Pass the weights after the softmax, not the raw scores."
        )
    return w


def _check_graph(edge_index: Any, weights: Any, types: Any) -> tuple[np.ndarray, ...]:
    """Validated (source, target, weights float64, types int8) of one graph."""
    t = _array(types)
    if t.ndim != 1 or t.size == 0:
        raise InputError(f"types must be one code per particle, shape (N,) with N > 0; got shape {t.shape}.")
    if not np.all(np.isin(t, (0, 1))):
        raise InputError(
            f"types must be 0 (A) or 1 (B); got the values {sorted(set(np.unique(t).tolist()))}. "
            "Map type names to codes with mda_glassml.frames.type_codes."
        )
    ei = _array(edge_index)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise InputError(
            f"edge_index must have shape (2, E) (row 0 the sources, row 1 the targets); got shape {ei.shape}."
            + (" Transpose it." if ei.ndim == 2 and ei.shape[1] == 2 else "")
        )
    if ei.shape[1] == 0:
        raise InputError("the graph has no edges (edge_index has shape (2, 0)): there is no attention to cut.")
    if not np.issubdtype(ei.dtype, np.integer):
        raise InputError(f"edge_index must hold integer particle indices; got dtype {ei.dtype}.")
    n = t.size
    if ei.min() < 0 or ei.max() >= n:
        raise InputError(
            f"edge_index refers to particles {ei.min()} .. {ei.max()}, but there are {n} particles "
            f"(types has length {n}); indices must lie in 0 .. {n - 1}."
        )
    if np.any(ei[0] == ei[1]):
        raise InputError(f"edge_index has {np.count_nonzero(ei[0] == ei[1])} self-loop(s) (source == target).")
    w = _check_weights(weights)
    if w.size != ei.shape[1]:
        raise InputError(
            f"weights has {w.size} values but edge_index has {ei.shape[1]} edges; give one weight per edge."
        )
    return ei[0].astype(np.int64), ei[1].astype(np.int64), w, t.astype(np.int8)


def check_cut(cut: Any) -> None:
    """Refuse a cut that is not \"paper\", \"trough\" or a finite number."""
    if isinstance(cut, str):
        if cut not in ("paper", "trough"):
            raise InputError(f'unknown cut {cut!r}; give "paper" (0.11), "trough" or a number.')
    elif isinstance(cut, bool) or not isinstance(cut, (int, float, np.integer, np.floating)) or not np.isfinite(cut):
        raise InputError(f'cut must be "paper", "trough" or a finite number (a rescaled weight); got {cut!r}.')


def _resolve_cut(cut: str | float, rescaled: Sequence[np.ndarray]) -> float:
    """The numeric cut; ``"trough"`` is computed from all the given graphs pooled."""
    check_cut(cut)
    if cut == "paper":
        return PAPER_CUT
    if cut == "trough":
        return trough_cut(rescaled)
    if not RESCALED_MIN <= cut < RESCALED_MIN + RESCALED_SPAN:
        # Allowed (the whole k-NN graph, or none of it, is a legitimate reference), but rarely meant. Said where
        # the cut is applied, once per calling line (Python's default filter), not where an analysis is made.
        keeps = "every edge" if cut < RESCALED_MIN else "no edge"
        warn(f"cut {cut:g} lies outside the rescaled weights' range [0.1, 4.1): it keeps {keeps} of every "
             "graph. Rescaled weights run from 0.1 (each graph's weakest edge) to 4.1 (its strongest).",
             AttentionWarning)
    return float(cut)


# --------------------------------------------------------------------------- weights and cuts


def _rescale(w: np.ndarray) -> np.ndarray:
    lo, span = w.min(), np.ptp(w)
    if span == 0:
        return np.full(w.shape, RESCALED_MIN)
    return RESCALED_SPAN * (w - lo) / span + RESCALED_MIN


def rescale_weights(weights: Any) -> np.ndarray:
    """Min-max rescale one graph's attention weights to [0.1, 4.1].

    ``w' = 4 (a - min) / (max - min) + 0.1``, the original code's rule (the
    0.1 floor keeps the weakest edge visible when widths are drawn from
    ``w'``). Rescale each graph on its own.

    Parameters
    ----------
    weights : array of float, shape (E,)
        Non-negative weights of one graph's directed edges.

    Returns
    -------
    numpy.ndarray of float64, shape (E,)
        The rescaled weights. If all the weights are equal (no edge stands
        out) they all map to 0.1, so no edge passes any cut above 0.1.

    Examples
    --------
    >>> rescale_weights([0.0, 0.25, 1.0]).tolist()
    [0.1, 1.1, 4.1]
    >>> rescale_weights([0.25, 0.25]).tolist()
    [0.1, 0.1]
    """
    return _rescale(_check_weights(weights))


def _pool(rescaled: Any) -> np.ndarray:
    """All graphs' rescaled weights but each graph's smallest and largest (pinned to 0.1 and 4.1)."""
    if isinstance(rescaled, np.ndarray) and rescaled.ndim > 2:
        raise InputError(f"rescaled weights must be one graph (E,), graphs of one size (n_graphs, E) or a list of "
                         f"arrays; got shape {rescaled.shape}.")
    # a 2-D array is graphs of one size, one a row (as np.array of equal-length graphs makes it)
    graphs = list(rescaled) if not isinstance(rescaled, np.ndarray) or rescaled.ndim == 2 else [rescaled]
    if graphs and np.ndim(graphs[0]) == 0:  # one graph given as a list of numbers
        graphs = [graphs]
    parts = []
    for r in graphs:
        r = np.ravel(np.asarray(r, dtype=np.float64))
        if not np.all(np.isfinite(r)):
            raise InputError("the rescaled weights hold NaN or infinite values.")
        if r.size > 2:
            r = np.delete(r, [np.argmin(r), np.argmax(r)])
        parts.append(r)
    values = np.concatenate(parts) if parts else np.empty(0)
    if values.size and (values.min() < RESCALED_MIN - 1e-9 or values.max() > RESCALED_MIN + RESCALED_SPAN + 1e-9):
        raise InputError(
            f"these do not look like rescaled weights (they span {values.min():g} .. {values.max():g}; "
            "rescaled weights lie in [0.1, 4.1]); pass rescale_weights(w) of each graph."
        )
    return values


#: Up to this many weights :func:`trough_cut` sums every kernel (about 0.4 s); above, it bins them first.
EXACT_KDE_MAX = 50_000


def _binned_density(x: np.ndarray, grid: np.ndarray, bw: float, refine: int = 16) -> np.ndarray:
    """The Gaussian KDE of ``x`` (bandwidth ``bw``) on ``grid``, from linearly binned data.

    The data are spread linearly onto a grid ``refine`` times finer than
    ``grid`` (whose points it contains), and the counts convolved directly
    (sums of positive terms: no FFT round-off in the empty stretches
    between modes) with the kernel out to where it underflows. Binning
    moves each weight by under a fine step ``d``; the density errs by a
    relative O((d / bw)^2): 1e-5 to 1e-4 on pools of 10^5 to 10^6 weights
    (0.2 s, where summing every kernel takes 10 s), and the cut, a grid
    point, came out the same in each of some 40 comparisons (a review's
    included: spikes, piles at either end, far-apart modes).
    """
    fine = np.linspace(grid[0], grid[-1], (grid.size - 1) * refine + 1)
    step = fine[1] - fine[0]
    pos = (x - fine[0]) / step
    lo = np.clip(np.floor(pos).astype(np.int64), 0, fine.size - 2)
    frac = pos - lo
    counts = (np.bincount(lo, weights=1.0 - frac, minlength=fine.size)
              + np.bincount(lo + 1, weights=frac, minlength=fine.size))
    half = min(fine.size - 1, int(np.ceil(40.0 * bw / step)))  # exp(-40^2 / 2) underflows
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * (step / bw)) ** 2)
    density = np.convolve(counts, kernel)[half:half + fine.size]
    return density[::refine] / (x.size * bw * np.sqrt(2.0 * np.pi))


def trough_cut(rescaled: Any, min_prominence: float = 0.1) -> float:
    """A cut at the trough between the two main modes of rescaled weights.

    The density of ``log(w')`` is estimated by a Gaussian kernel density
    (:class:`scipy.stats.gaussian_kde`, Scott's bandwidth) on a grid of 1024
    points that extends three bandwidths past the data (above
    ``EXACT_KDE_MAX`` = 50,000 weights, from the weights binned on a 16 times finer
    grid, so that a million weights take 0.2 s, not 10); its modes are the peaks
    (:func:`scipy.signal.find_peaks`) with a prominence of at least
    ``min_prominence`` times the highest density. The cut is the lowest
    density point between the two highest modes, returned as a rescaled
    weight. Log scale, because weights next to the 0.1 floor crowd into a
    narrow spike while the high ones spread over decades. Each graph's
    smallest and largest weight are left out: the rescaling pins them to 0.1
    and 4.1, and pooled over many small graphs those pinned values alone
    would make spikes that look like modes.

    Compute it once from a pooled sample of many graphs (for example the
    training set) and pass the number as ``cut`` to apply the same cut to
    other graphs.

    Parameters
    ----------
    rescaled : array of float, or sequence of arrays
        Rescaled weights (:func:`rescale_weights`) of one graph (shape
        (E,)), or one array per graph (a list, or a 2-D array with one graph
        a row), pooled.
    min_prominence : float
        Smallest prominence of a mode, relative to the highest density.

    Returns
    -------
    float
        The cut, in rescaled units (keep ``w' > cut``).

    Raises
    ------
    InputError
        If fewer than 20 weights are given, the values are not rescaled
        weights, or the density has one mode only (no trough to cut at).

    Examples
    --------
    Half the weights near the floor, half spread around 2:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> w = np.r_[0.1 + rng.uniform(0, 1e-3, 200), np.exp(rng.normal(np.log(2), 0.2, 200))]
    >>> cut = trough_cut(w)
    >>> bool(0.11 < cut < 1.0)
    True
    """
    if isinstance(min_prominence, bool) or not isinstance(min_prominence, (int, float, np.number)) \
            or not 0 < min_prominence < 1:
        raise InputError(f"min_prominence is a fraction of the highest density, in (0, 1); got {min_prominence!r}.")
    values = _pool(rescaled)
    if values.size < 20:
        raise InputError(
            "trough_cut needs at least 20 weights (besides each graph's smallest and largest) to estimate "
            f"their distribution; got {values.size}."
        )
    x = np.log(values)
    unimodal = (
        "the distribution of rescaled attention weights has a single mode: there is no trough to cut at. "
        'Use cut="paper" (0.11) or a number, or pool more graphs (trough_cut of many graphs).'
    )
    if np.ptp(x) == 0:
        raise InputError(unimodal + " (besides each graph's smallest and largest, every weight is the same)")
    kde = gaussian_kde(x)
    bw = float(np.sqrt(kde.covariance[0, 0]))
    grid = np.linspace(x.min() - 3 * bw, x.max() + 3 * bw, 1024)
    density = kde(grid) if x.size <= EXACT_KDE_MAX else _binned_density(x, grid, bw)
    peaks, _ = find_peaks(density, prominence=min_prominence * density.max())
    if len(peaks) < 2:
        raise InputError(unimodal)
    first, second = np.sort(peaks[np.argsort(density[peaks])[-2:]])
    # The deepest local minimum of the density between the two modes.
    between = -density[first : second + 1]
    minima, _ = find_peaks(between)
    trough = first + (minima[np.argmax(between[minima])] if len(minima) else np.argmax(between))
    return float(np.exp(grid[trough]))


def high_attention(weights: Any, cut: str | float = "paper") -> np.ndarray:
    """Which directed edges of one graph have high attention (``w' > cut``).

    Parameters
    ----------
    weights : array of float, shape (E,)
        One graph's attention weights (not rescaled).
    cut : "paper", "trough" or float
        See :func:`attention_graph`.

    Returns
    -------
    numpy.ndarray of bool, shape (E,)

    Examples
    --------
    >>> high_attention([0.0, 0.002, 0.003, 1.0]).tolist()   # w' = 0.1, 0.108, 0.112, 4.1
    [False, False, True, True]
    """
    rescaled = rescale_weights(weights)
    return rescaled > _resolve_cut(cut, [rescaled])


# --------------------------------------------------------------------------- graphs and their metrics


def _count(source: np.ndarray, target: np.ndarray, high: np.ndarray, types: np.ndarray) -> BNeighborResult:
    return graph_counts(undirected(source[high], target[high], types.size), types)


def attention_graph(edge_index: Any, weights: Any, types: Any, cut: str | float = "paper") -> BNeighborResult:
    """The graph of high-attention edges of one graph, and its counts.

    Parameters
    ----------
    edge_index : array of int, shape (2, E)
        Directed edges: row 0 the sources, row 1 the targets (particle
        indices 0 .. N - 1). Here and below, torch tensors are accepted too
        (detached and copied to the CPU).
    weights : array of float, shape (E,)
        Non-negative attention weight of each directed edge.
    types : array of int, shape (N,)
        0 for A, 1 for B.
    cut : "paper", "trough" or float
        ``"paper"``: keep ``w' > 0.11`` (the original code); ``"trough"``:
        the cut of :func:`trough_cut` on *this graph's* weights (raises if
        they are unimodal; for a cut shared by many graphs compute
        :func:`trough_cut` once and pass the number); a float: keep
        ``w' > cut``.

    Returns
    -------
    mda_glassml.metrics.BNeighborResult
        Undirected high-attention edges (a pair is kept if either direction
        is high), connected components among particles with a kept edge,
        B–B edges, isolated A and B, per-particle component labels.

    Raises
    ------
    InputError
        On malformed input (shapes, lengths, NaN or negative weights, indices
        out of range, self-loops, a graph with no edges).

    Examples
    --------
    Three particles A B B in a line (0-1, 1-2, both directions); only the
    edge from 2 to 1 stands out, which keeps the pair 1-2:

    >>> import numpy as np
    >>> g = attention_graph([[0, 1, 1, 2], [1, 0, 2, 1]], [0.1, 0.1, 0.1, 0.7], [0, 1, 1])
    >>> g.edges.tolist(), g.n_bb_edges, g.n_isolated_a
    ([[1, 2]], 1, 1)
    """
    source, target, w, t = _check_graph(edge_index, weights, types)
    rescaled = _rescale(w)
    return _count(source, target, rescaled > _resolve_cut(cut, [rescaled]), t)


def attention_metrics_table(
    graphs: Iterable[tuple[Any, Any, Any]], cut: str | float = "paper"
) -> dict[str, np.ndarray]:
    """Attention-graph metrics of many graphs, one row per graph.

    Parameters
    ----------
    graphs : iterable of (edge_index, weights, types)
        As for :func:`attention_graph`.
    cut : "paper", "trough" or float
        As for :func:`attention_graph`, except that ``"trough"`` computes one
        cut from the weights of *all* the given graphs pooled (as the paper
        chose one cut from the distribution of the weights) and applies it
        to each.
    Returns
    -------
    dict of str to numpy.ndarray
        ``n_particles``, ``n_components``, ``n_bb_edges``, ``n_isolated_a``,
        ``n_isolated_b``, their per-particle twins
        (``components_per_particle``, ``bb_edges_per_particle``,
        ``isolated_a_per_particle``, ``isolated_b_per_particle``),
        ``fraction_high`` (the fraction of directed edges above the cut) and
        ``cut`` (the numeric cut used), each of length ``len(graphs)``.

    Examples
    --------
    >>> import numpy as np
    >>> ring = np.array([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    >>> table = attention_metrics_table([(ring, [1, 0, 0, 0, 0, 0], [0, 1, 0]),
    ...                                  (ring, [1, 1, 1, 1, 0, 0], [0, 1, 0])])
    >>> table["n_components"].tolist(), table["n_isolated_a"].tolist()
    ([1, 1], [1, 0])
    >>> table["isolated_a_per_particle"].round(3).tolist()
    [0.333, 0.0]
    """
    checked = []
    if isinstance(graphs, tuple) and len(graphs) in (2, 3) and np.ndim(graphs[0]) == 2:
        raise InputError("graphs must be a list of (edge_index, weights, types), one a graph; for one graph "
                         "pass [(edge_index, weights, types)] (or use attention_graph).")
    for g, item in enumerate(graphs):
        if not isinstance(item, (tuple, list)) or len(item) != 3:
            got = f"{len(item)} items" if isinstance(item, (tuple, list)) else type(item).__name__
            raise InputError(f"graph {g}: expected (edge_index, weights, types), got {got}"
                             + ("; Classifier.attention gives (edge_index, weights): add the frame's types "
                                "(frame.types)." if isinstance(item, (tuple, list)) and len(item) == 2 else "."))
        try:
            checked.append(_check_graph(*item))
        except (InputError, TypeError, ValueError) as err:
            raise InputError(f"graph {g}: {err}") from None
    if not checked:
        raise InputError("no graphs given: attention_metrics_table needs at least one (edge_index, weights, types).")
    rescaled = [_rescale(w) for _, _, w, _ in checked]
    value = _resolve_cut(cut, rescaled)
    rows = []
    for (source, target, _, t), r in zip(checked, rescaled):
        high = r > value
        counts = _count(source, target, high, t).counts()
        counts["isolated_b_per_particle"] = counts["n_isolated_b"] / counts["n_particles"]
        counts["fraction_high"] = float(high.mean())
        counts["cut"] = value
        rows.append(counts)
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def _warn_nearly_all(glass: Mapping[str, Any], liquid: Mapping[str, Any]) -> None:
    """Warn if the cut kept more than 95 % of the directed edges of the glasses and of the liquids alike.

    (In glasses alone that is the paper's finding: ka2d-dmpnn-paper keeps nearly all edges of a glass window.)
    """
    try:
        kept = [np.asarray(side["fraction_high"], dtype=np.float64) for side in (glass, liquid)]
    except (KeyError, IndexError, TypeError, ValueError):  # not tables of attention_metrics_table
        return
    if all(k.size and k.mean() > NEARLY_ALL for k in kept):
        try:
            which = f"the cut {float(np.ravel(glass['cut'])[0]):.3g}"
        except (KeyError, IndexError, TypeError, ValueError):
            which = "the cut"
        warn(
            f"{which} keeps {100 * kept[0].mean():.1f} % of the glasses' directed edges and "
            f"{100 * kept[1].mean():.1f} % of the liquids': both attention graphs are nearly the whole k-NN graph, "
            "so the test compares neighbour graphs, not attention. This model puts few weights near the floor: "
            "choose a cut from the weights' distribution (trough_cut of many pooled graphs, or a quantile), or "
            "read the attention of ka2d-dmpnn-paper, on which the paper's cut was chosen.",
            AttentionWarning)


# --------------------------------------------------------------------------- glass vs liquid


@dataclass(frozen=True)
class MetricTest:
    """One metric's paired one-sided Wilcoxon signed-rank test, glass minus liquid.

    Attributes
    ----------
    metric : str
    alternative : {"less", "greater", "two-sided"}
        ``"less"``: the glass values are smaller than the liquid's.
    n : int
        Pairs.
    statistic : float
        The Wilcoxon statistic as :func:`scipy.stats.wilcoxon` returns it.
    pvalue : float
    median_difference : float
        Median of glass - liquid over the pairs.
    median_glass, median_liquid : float
    n_ranked : int
        Pairs whose difference is not zero: the ones the test ranks (the
        smallest one-sided p-value is ``2 ** -n_ranked``).
    """

    metric: str
    alternative: str
    n: int
    statistic: float
    pvalue: float
    median_difference: float
    median_glass: float
    median_liquid: float
    n_ranked: int | None = None  # last, with a default: MetricTest(...) built positionally before it still works


@dataclass(frozen=True, eq=False)
class GlassLiquidComparison:
    """Per-metric paired tests of glasses against liquids (see :func:`compare_glass_liquid`).

    Attributes
    ----------
    tests : dict of str to MetricTest
        One test per metric, in the order asked for.
    glass, liquid : dict of str to numpy.ndarray
        The paired values compared, per metric.
    """

    tests: dict[str, MetricTest]
    glass: dict[str, np.ndarray]
    liquid: dict[str, np.ndarray]

    def __getitem__(self, metric: str) -> MetricTest:
        return self.tests[metric]

    def table(self) -> str:
        """The tests as a fixed-width text table."""
        head = f"{'metric':<26}{'alternative':>12}{'n':>6}{'ranked':>8}{'median glass':>14}{'median liquid':>15}"
        head += f"{'median diff':>13}{'statistic':>11}{'p-value':>11}"
        lines = [head, "-" * len(head)]
        for t in self.tests.values():
            lines.append(
                f"{t.metric:<26}{t.alternative:>12}{t.n:>6}{'?' if t.n_ranked is None else t.n_ranked:>8}"
                f"{t.median_glass:>14.4g}{t.median_liquid:>15.4g}"
                f"{t.median_difference:>13.4g}{t.statistic:>11.4g}{t.pvalue:>11.3g}"
            )
        return "\n".join(lines)

    def figure(self) -> "Figure":
        """Paired box plots, one panel per metric, pairs joined by lines, p-values in the titles
        (:func:`mda_glassml.plots.glass_liquid_figure`)."""
        from .plots import glass_liquid_figure  # noqa: PLC0415

        return glass_liquid_figure(self)


def _paired(values: Any, metric: str, which: str) -> np.ndarray:
    try:
        column = values[metric]
    except (KeyError, IndexError, TypeError):
        raise InputError(f"the {which} values have no metric {metric!r}.") from None
    try:
        x = np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{which} {metric!r} must be numbers, one per configuration; got {column!r:.80}.") from None
    if x.ndim != 1:
        raise InputError(f"{which} {metric!r} must be one value per configuration; got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise InputError(f"{which} {metric!r} holds {np.count_nonzero(~np.isfinite(x))} NaN or infinite value(s).")
    return x


def compare_glass_liquid(
    glass: Mapping[str, Any],
    liquid: Mapping[str, Any],
    metrics: Sequence[str] = FIGURE9_METRICS,
    alternative: str | Mapping[str, str] | None = None,
) -> GlassLiquidComparison:
    """Paired Wilcoxon signed-rank tests of glass against liquid, per metric (the paper's Figure 9).

    Glass ``i`` and liquid ``i`` must come from the same trajectory (and
    window), so that each difference ``glass[i] - liquid[i]`` removes what the
    two share. :func:`scipy.stats.wilcoxon` runs on those differences with
    its defaults (zero differences are dropped, ``"wilcox"``; exact p-values
    for small samples without ties), so it stands on the pairs that differ
    (``n_ranked``; a warning if fewer than 6). If every difference is zero
    the test has nothing to rank and reports statistic 0 and p-value 1.

    Parameters
    ----------
    glass, liquid : mapping of str to array
        Metric name to one value per configuration, e.g. two
        :func:`attention_metrics_table` results.
    metrics : sequence of str
        Metrics to test; by default the three of Figure 9.
    alternative : str or mapping, optional
        ``"less"`` (glass smaller), ``"greater"`` or ``"two-sided"``, for all
        metrics or per metric (a mapping). By default ``"less"`` for the
        component, B–B edge and isolated-A counts and their per-particle
        twins (the paper's finding: glasses have fewer of each), and
        ``"two-sided"`` for any other metric.

    Returns
    -------
    GlassLiquidComparison
        ``tests`` per metric (statistic, p-value, medians, n), ``table()``
        and ``figure()``.

    Warns
    -----
    AttentionWarning
        If both tables carry ``fraction_high`` (those of
        :func:`attention_metrics_table` do) and the cut kept more than 95 % of
        the directed edges of the glasses and of the liquids alike: the test
        then compares neighbour graphs, not attention (``cut="paper"`` on the
        shipped ``ka2d-dmpnn``: 98–100 %).

    Raises
    ------
    InputError
        If a metric is missing, the glass and liquid lengths differ, there
        are fewer than 6 pairs, a value is NaN or an alternative is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> liquid = {"n_bb_edges": np.array([9, 7, 8, 12, 10, 11, 9, 8])}
    >>> glass = {"n_bb_edges": np.array([2, 1, 3, 2, 0, 4, 2, 1])}
    >>> result = compare_glass_liquid(glass, liquid, metrics=["n_bb_edges"])
    >>> result["n_bb_edges"].pvalue   # every glass below its liquid: 2 ** -8
    0.00390625
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    try:
        metrics = list(metrics)
    except TypeError:
        raise InputError(f"metrics must be metric names, got {metrics!r}.") from None
    if len(metrics) == 0:
        raise InputError("no metrics to compare.")
    if isinstance(alternative, Mapping):
        stray = [name for name in alternative if name not in metrics]
        if stray:  # a misspelt name would silently leave that metric's test at its default
            raise InputError(f"alternative names {', '.join(map(repr, stray))}, which is not among the metrics "
                             f"compared ({', '.join(map(repr, metrics))}).")
    tests, glass_out, liquid_out = {}, {}, {}
    for metric in metrics:
        if isinstance(alternative, Mapping):
            alt = alternative.get(metric, DEFAULT_ALTERNATIVES.get(metric, "two-sided"))
        else:
            alt = alternative if alternative is not None else DEFAULT_ALTERNATIVES.get(metric, "two-sided")
        if alt not in ALTERNATIVES:
            raise InputError(f"unknown alternative {alt!r} for {metric!r}; choose one of {ALTERNATIVES}.")
        g, l = _paired(glass, metric, "glass"), _paired(liquid, metric, "liquid")
        if g.size != l.size:
            raise InputError(
                f"{metric!r}: {g.size} glass values but {l.size} liquid values; the test is paired "
                "(glass i and liquid i from the same trajectory), so give the same number of each."
            )
        if g.size < MIN_PAIRS:
            raise InputError(
                f"{metric!r}: only {g.size} pairs; the Wilcoxon signed-rank test needs at least {MIN_PAIRS} "
                f"(with n pairs the smallest one-sided p-value is 2**-n, {2.0 ** -g.size:.3g} here)."
            )
        d = g - l
        ranked = int(np.count_nonzero(d))
        if 0 < ranked < MIN_PAIRS:
            # wilcoxon drops zero differences: the test stands on these pairs only
            warn(f"{metric!r}: only {ranked} of the {g.size} pairs differ (the test ranks those alone), so "
                 f"its smallest one-sided p-value is 2**-{ranked} = {2.0 ** -ranked:.3g}.", AttentionWarning)
        if ranked == 0:
            statistic, pvalue = 0.0, 1.0
        else:
            res = wilcoxon(d, alternative=alt)
            statistic, pvalue = float(res.statistic), float(res.pvalue)
        tests[metric] = MetricTest(
            metric=metric,
            alternative=alt,
            n=int(g.size),
            n_ranked=ranked,
            statistic=statistic,
            pvalue=pvalue,
            median_difference=float(np.median(d)),
            median_glass=float(np.median(g)),
            median_liquid=float(np.median(l)),
        )
        glass_out[metric], liquid_out[metric] = g, l
    _warn_nearly_all(glass, liquid)  # the inputs are good by now
    return GlassLiquidComparison(tests=tests, glass=glass_out, liquid=liquid_out)
