"""Attention graphs: hand-worked graphs, the union rule against networkx, cuts, Wilcoxon against scipy."""

import warnings

import networkx as nx
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats

from mda_glassml.attention import (
    PAPER_CUT,
    AttentionWarning,
    attention_graph,
    attention_metrics_table,
    compare_glass_liquid,
    high_attention,
    rescale_weights,
    trough_cut,
)
from mda_glassml.errors import InputError

A, B = 0, 1

# Seven particles: B A A B B A B. Each pair below is present in both directions.
TYPES = np.array([B, A, A, B, B, A, B], np.int8)
PAIRS = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3), (2, 6)]
# Raw weight of each direction as a fraction of the graph's range (min 0, max 1), so w' = 4 f + 0.1.
FORWARD = {(0, 1): 1.0, (3, 4): 0.8, (0, 3): 0.002}  # u -> v
BACKWARD = {(3, 4): 0.5, (4, 5): 0.6}  # v -> u; every other direction 0 (w' = 0.1)


def hand_graph(forward=FORWARD, backward=BACKWARD, scale=1 / 7.0):
    src = [u for u, v in PAIRS] + [v for u, v in PAIRS]
    dst = [v for u, v in PAIRS] + [u for u, v in PAIRS]
    w = [forward.get(p, 0.0) for p in PAIRS] + [backward.get(p, 0.0) for p in PAIRS]
    return np.array([src, dst]), np.array(w) * scale  # any scale: only the range matters


def test_rescale_maps_min_to_0_1_and_max_to_4_1_linearly():
    w = np.array([0.3, 0.1, 0.2, 0.5])
    assert rescale_weights(w) == pytest.approx([2.1, 0.1, 1.1, 4.1])
    # Invariant to scale and shift (a softmax over a bigger graph only rescales the weights).
    assert rescale_weights(7 * w + 3) == pytest.approx(rescale_weights(w))


@pytest.mark.parametrize("w", [[0.25, 0.25, 0.25, 0.25], [0.0, 0.0], [3.0]])
def test_rescale_of_equal_weights_is_all_floor_and_keeps_nothing(w):
    assert rescale_weights(w).tolist() == [0.1] * len(w)
    assert not high_attention(w).any()


def test_hand_worked_graph_with_the_paper_cut():
    # Kept directed edges (w' > 0.11): 0->1 (4.1), 3->4 (3.3), 4->3 (2.1), 5->4 (2.5).
    # 0->3 has w' = 0.108: dropped. So undirected 0-1, 3-4, 4-5.
    # Components {0, 1}, {3, 4, 5}; B-B edge 3-4; isolated: 2 (A) and 6 (B).
    edge_index, w = hand_graph()
    g = attention_graph(edge_index, w, TYPES)
    assert g.edges.tolist() == [[0, 1], [3, 4], [4, 5]]
    assert (g.n_components, g.n_bb_edges, g.n_isolated_a, g.n_isolated_b) == (2, 1, 1, 1)
    assert g.component.tolist() == [0, 0, -1, 1, 1, 1, -1]
    assert g.isolated.tolist() == [False, False, True, False, False, False, True]
    assert g.n_particles == 7
    assert high_attention(w).tolist() == [True, False, False, True, False, False, False, False,
                                          False, False, False, True, True, False, False, False]


def test_the_paper_cut_sits_at_a_quarter_percent_of_the_range():
    # 0->3 at 0.3 % of the range (w' = 0.112) now passes and joins the two components with a B-B edge.
    edge_index, w = hand_graph(forward={**FORWARD, (0, 3): 0.003})
    g = attention_graph(edge_index, w, TYPES)
    assert g.edges.tolist() == [[0, 1], [0, 3], [3, 4], [4, 5]]
    assert (g.n_components, g.n_bb_edges, g.n_isolated_a, g.n_isolated_b) == (1, 2, 1, 1)
    assert PAPER_CUT == 0.11


def test_a_numeric_cut():
    # w' of the kept directions: 4.1 (0->1), 3.3 (3->4), 2.1 (4->3), 2.5 (5->4).
    edge_index, w = hand_graph()
    assert attention_graph(edge_index, w, TYPES, cut=3.0).edges.tolist() == [[0, 1], [3, 4]]
    assert attention_graph(edge_index, w, TYPES, cut=3.5).edges.tolist() == [[0, 1]]
    with pytest.warns(AttentionWarning, match="cut 5 lies outside .* it keeps no edge"):
        g = attention_graph(edge_index, w, TYPES, cut=5)
    assert (g.n_components, g.n_bb_edges, g.n_isolated_a, g.n_isolated_b) == (0, 0, 3, 4)


def test_a_pair_is_kept_if_either_direction_is_high():
    # One direction high suffices, in either row order; both high gives the same single edge.
    types = np.array([A, B])
    for w in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]):
        g = attention_graph([[0, 1, 0], [1, 0, 1]], w, types)  # pair (0, 1) twice plus a duplicate
        assert g.edges.tolist() == [[0, 1]]
    g = attention_graph([[0, 1], [1, 0]], [1.0, 1.0], types)  # both equal: all at the floor, nothing kept
    assert g.edges.tolist() == [] and g.n_isolated_a == 1 and g.n_isolated_b == 1


def reference_counts(edge_index, w, types, cut):
    """networkx on a dict of pairs: shares no code with mda_glassml."""
    lo, hi = min(w), max(w)
    graph = nx.Graph()
    for (u, v), a in zip(edge_index.T.tolist(), w):
        if hi > lo and 4 * (a - lo) / (hi - lo) + 0.1 > cut:
            graph.add_edge(u, v)
    isolated = [p for p in range(len(types)) if p not in graph]
    return (
        nx.number_connected_components(graph),
        sum(1 for u, v in graph.edges if types[u] == B and types[v] == B),
        sum(1 for p in isolated if types[p] == A),
        sum(1 for p in isolated if types[p] == B),
        sorted(tuple(sorted(e)) for e in graph.edges),
    )


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_agree_with_networkx(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    pairs = {tuple(sorted(p)) for p in rng.integers(0, n, size=(2 * n, 2)).tolist() if p[0] != p[1]}
    pairs = np.array(sorted(pairs))
    edge_index = np.concatenate([pairs.T, pairs.T[::-1]], axis=1)
    w = rng.dirichlet(np.full(edge_index.shape[1], 0.3))  # a softmax-like, heavy-tailed weight
    types = rng.integers(0, 2, n).astype(np.int8)
    for cut in ("paper", 0.5, 2.0):
        value = PAPER_CUT if cut == "paper" else cut
        g = attention_graph(edge_index, w, types, cut=cut)
        expected = reference_counts(edge_index, w, types, value)
        assert (g.n_components, g.n_bb_edges, g.n_isolated_a, g.n_isolated_b) == expected[:4]
        assert [tuple(e) for e in g.edges.tolist()] == expected[4]
        # Edge order and direction do not matter.
        order = rng.permutation(edge_index.shape[1])
        h = attention_graph(edge_index[::-1, order], w[order], types, cut=cut)
        assert h.edges.tolist() == g.edges.tolist()


def bimodal_sample(rng, n=300):
    """Rescaled weights whose logs form two truncated normal modes with an empty gap (-1.84, -0.5)."""
    lo = rng.normal(np.log(0.13), 0.08, 4 * n)
    hi = rng.normal(np.log(1.5), 0.3, 4 * n)
    lo = lo[np.abs(lo - np.log(0.13)) < 0.2][:n]
    hi = hi[np.abs(hi - np.log(1.5)) < 0.9][:n]
    return np.exp(np.r_[lo, hi])


@pytest.mark.parametrize("seed", range(5))
def test_trough_cut_falls_in_the_gap_of_a_bimodal_sample(seed):
    cut = trough_cut(bimodal_sample(np.random.default_rng(seed)))
    assert np.exp(-1.84) < cut < np.exp(-0.5)


@pytest.mark.parametrize("gap", [False, True])
def test_large_pools_are_binned_with_the_exact_cut(monkeypatch, gap):
    # above EXACT_KDE_MAX weights trough_cut bins them (10 s -> 0.2 s for a million): same densities to
    # 2e-5, same cut, also with modes far apart (the binned kernel reaches across the empty stretch)
    import mda_glassml.attention as attention

    rng = np.random.default_rng(3)
    n = 2 * attention.EXACT_KDE_MAX
    lo = 0.1 + (rng.uniform(0, 1e-3, n // 2) if gap else rng.exponential(0.02, n // 2))
    w = np.clip(np.r_[lo, np.exp(rng.normal(np.log(1.5), 0.4, n // 2))], 0.1, 4.1)
    x = np.log(w)
    kde = stats.gaussian_kde(x)
    bw = float(np.sqrt(kde.covariance[0, 0]))
    grid = np.linspace(x.min() - 3 * bw, x.max() + 3 * bw, 1024)
    exact = kde(grid)
    binned = attention._binned_density(x, grid, bw)
    seen = exact > 1e-6 * exact.max()
    np.testing.assert_allclose(binned[seen], exact[seen], rtol=2e-5)
    cut = trough_cut(w)
    monkeypatch.setattr(attention, "EXACT_KDE_MAX", n)
    assert trough_cut(w) == cut


def test_trough_cut_uses_the_two_highest_modes():
    # A small third mode at log w' = 1.1 (12 % of the weights) is left alone: the cut falls between
    # the two big modes at -1.9 and -0.6, although the emptier gap lies on the third mode's side.
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-1.9, 0.12, 300), rng.normal(-0.6, 0.2, 300), rng.normal(1.1, 0.08, 80)]
    cut = np.log(trough_cut(np.exp(np.clip(x, np.log(0.1), np.log(4.1)))))
    assert -1.6 < cut < -1.0


def test_trough_cut_recovers_planted_high_attention_edges_of_a_softmax():
    # 200 edges with scores near 0 and 400 near -8: after the softmax the latter are almost negligible.
    rng = np.random.default_rng(1)
    scores = np.r_[rng.normal(0, 0.3, 200), rng.normal(-8, 0.3, 400)]
    alpha = np.exp(scores) / np.exp(scores).sum()
    rescaled = rescale_weights(alpha)
    cut = trough_cut(rescaled)
    assert np.array_equal(rescaled > cut, np.arange(600) < 200)
    assert np.array_equal(high_attention(alpha, "trough"), np.arange(600) < 200)


def test_trough_cut_pools_graphs_and_its_number_can_be_reused():
    rng = np.random.default_rng(2)
    graphs = [rescale_weights(bimodal_sample(rng, 40)) for _ in range(6)]
    pooled = trough_cut(graphs)
    # Pooling leaves out each graph's pinned minimum and maximum (0.1 and 4.1), and nothing else.
    trimmed = np.concatenate([np.sort(g)[1:-1] for g in graphs])
    assert pooled == trough_cut(np.r_[0.1, trimmed, 4.1])
    # The cut falls in the gap between the two modes of the pooled sample.
    assert trimmed[trimmed < 0.3].max() < pooled < trimmed[trimmed > 0.3].min()


def test_unimodal_weights_raise_and_say_what_to_do():
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="single mode.*cut=\"paper\""):
        trough_cut(0.1 + 4 * rng.uniform(0, 1, 500))
    with pytest.raises(InputError, match="single mode"):
        trough_cut([np.full(30, 0.1)])
    edge_index = np.array([np.arange(30), (np.arange(30) + 1) % 30])
    with pytest.raises(InputError, match="single mode"):
        attention_graph(edge_index, rng.uniform(0.5, 1.0, 30), np.zeros(30, np.int8), cut="trough")


def test_trough_cut_rejects_small_and_unrescaled_samples():
    with pytest.raises(InputError, match="at least 20 weights"):
        trough_cut(np.linspace(0.1, 4.1, 15))
    with pytest.raises(InputError, match=r"rescale_weights\(w\)"):
        trough_cut(np.full(50, 1 / 50))  # raw softmax weights, not rescaled
    with pytest.raises(InputError, match="NaN"):
        trough_cut(np.r_[np.linspace(0.1, 4.1, 30), np.nan])


def test_table_rows_equal_single_graphs_and_trough_is_pooled():
    rng = np.random.default_rng(3)
    graphs = []
    for _ in range(4):
        n = 30
        edge_index = np.array([np.r_[np.arange(n), (np.arange(n) + 1) % n],
                               np.r_[(np.arange(n) + 1) % n, np.arange(n)]])
        types = rng.integers(0, 2, n).astype(np.int8)
        w = np.where(rng.uniform(size=2 * n) < 0.4, rng.uniform(0.5, 1, 2 * n), rng.uniform(0, 1e-4, 2 * n))
        graphs.append((edge_index, w, types))
    table = attention_metrics_table(graphs)
    for i, (edge_index, w, types) in enumerate(graphs):
        g = attention_graph(edge_index, w, types)
        assert table["n_components"][i] == g.n_components
        assert table["n_bb_edges"][i] == g.n_bb_edges
        assert table["n_isolated_a"][i] == g.n_isolated_a
        assert table["n_isolated_b"][i] == g.n_isolated_b
        assert table["isolated_b_per_particle"][i] == pytest.approx(g.n_isolated_b / 30)
        assert table["components_per_particle"][i] == pytest.approx(g.n_components / 30)
    assert table["cut"].tolist() == [PAPER_CUT] * 4
    pooled = trough_cut([rescale_weights(w) for _, w, _ in graphs])
    by_trough = attention_metrics_table(graphs, cut="trough")
    assert by_trough["cut"].tolist() == [pooled] * 4
    assert by_trough["n_bb_edges"].tolist() == attention_metrics_table(graphs, cut=pooled)["n_bb_edges"].tolist()


def test_table_errors_name_the_graph():
    good = ([[0, 1], [1, 0]], [0.2, 0.8], [0, 1])
    with pytest.raises(InputError, match="graph 1: weights has 3 values but edge_index has 2 edges"):
        attention_metrics_table([good, ([[0, 1], [1, 0]], [0.2, 0.8, 0.1], [0, 1])])
    with pytest.raises(InputError, match="no graphs"):
        attention_metrics_table([])


@pytest.mark.parametrize(
    "edge_index, weights, types, message",
    [
        (np.zeros((3, 4), int), np.ones(4), [0, 1], r"shape \(2, E\)"),
        (np.zeros((4, 2), int), np.ones(4), [0, 1], "Transpose"),
        (np.zeros((2, 0), int), np.ones(0), [0, 1], "no edges"),
        ([[0, 1], [1, 0]], [0.5, 0.5, 0.1], [0, 1], "3 values but edge_index has 2 edges"),
        ([[0, 1], [1, 0]], [0.5, np.nan], [0, 1], "NaN"),
        ([[0, 1], [1, 0]], [0.5, -0.1], [0, 1], "negative"),
        ([[0, 1], [1, 0]], [[0.5, 0.5]], [0, 1], r"shape \(E,\)"),
        ([[0, 2], [2, 0]], [0.5, 0.5], [0, 1], "0 .. 1"),
        ([[0, -1], [1, 0]], [0.5, 0.5], [0, 1], "0 .. 1"),
        ([[0, 1], [0, 0]], [0.5, 0.5], [0, 1], "self-loop"),
        ([[0.0, 1.0], [1.0, 0.0]], [0.5, 0.5], [0, 1], "integer"),
        ([[0, 1], [1, 0]], [0.5, 0.5], ["A", "B"], "0 \\(A\\) or 1 \\(B\\)"),
        ([[0, 1], [1, 0]], [0.5, 0.5], [0, 2], "0 \\(A\\) or 1 \\(B\\)"),
        ([[0, 1], [1, 0]], [0.5, 0.5], [], r"shape \(N,\)"),
    ],
)
def test_bad_graphs_raise_clear_errors(edge_index, weights, types, message):
    with pytest.raises(InputError, match=message):
        attention_graph(edge_index, weights, types)


class FakeTensor:
    """Duck-types a torch tensor that requires grad: np.asarray on it would fail."""

    def __init__(self, values):
        self.values = np.asarray(values)

    def __array__(self, *args, **kwargs):
        raise RuntimeError("Can't call numpy() on Tensor that requires grad.")

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.values


def test_tensors_are_detached_and_read():
    edge_index, w = hand_graph()
    g = attention_graph(FakeTensor(edge_index), FakeTensor(w), FakeTensor(TYPES))
    assert g.edges.tolist() == [[0, 1], [3, 4], [4, 5]]


@pytest.mark.parametrize("cut", ["median", True, float("nan"), None])
def test_bad_cuts_raise(cut):
    with pytest.raises(InputError, match="cut"):
        attention_graph([[0, 1], [1, 0]], [0.2, 0.8], [0, 1], cut=cut)


def test_rescale_rejects_bad_weights():
    for w, message in [([], "no edges"), ([0.1, np.inf], "infinite"), ([-1.0, 1.0], "negative"),
                       (["a", "b"], "must be numbers")]:
        with pytest.raises(InputError, match=message):
            rescale_weights(w)


def paired_samples(shift, n=30, seed=0):
    """Glass = liquid - shift + noise; the noise is symmetric by construction (each d with its -d)."""
    rng = np.random.default_rng(seed)
    liquid = {m: rng.normal(50, 10, n) for m in ("n_components", "n_bb_edges", "n_isolated_a")}
    noise = {m: rng.permutation(np.r_[d, -d]) for m in liquid for d in [rng.normal(0, 2, n // 2)]}
    glass = {m: v - shift + noise[m] for m, v in liquid.items()}
    return glass, liquid


def test_wilcoxon_matches_scipy_and_detects_a_shift():
    glass, liquid = paired_samples(shift=5)
    result = compare_glass_liquid(glass, liquid)
    for metric, t in result.tests.items():
        ref = stats.wilcoxon(glass[metric], liquid[metric], alternative="less")
        assert (t.statistic, t.pvalue) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))
        assert t.alternative == "less" and t.n == 30
        assert t.pvalue < 1e-5
        assert t.median_difference == pytest.approx(np.median(glass[metric] - liquid[metric]))
        assert t.median_glass == pytest.approx(np.median(glass[metric]))
    # The other direction is not supported by the data.
    assert compare_glass_liquid(glass, liquid, alternative="greater")["n_bb_edges"].pvalue > 0.99


def test_wilcoxon_without_a_shift_is_not_significant():
    glass, liquid = paired_samples(shift=0)
    result = compare_glass_liquid(glass, liquid)
    for metric, t in result.tests.items():
        assert t.pvalue == pytest.approx(stats.wilcoxon(glass[metric] - liquid[metric], alternative="less").pvalue)
        assert t.pvalue > 0.4  # the signed ranks balance exactly: p near 1/2


def test_wilcoxon_alternatives_per_metric_and_defaults():
    glass, liquid = paired_samples(shift=5)
    glass["n_isolated_b"] = liquid["n_isolated_b"] = np.zeros(30)  # the paper: ~0 everywhere
    result = compare_glass_liquid(
        glass, liquid, metrics=["n_bb_edges", "n_components", "n_isolated_b"], alternative={"n_bb_edges": "two-sided"}
    )
    assert [t.alternative for t in result.tests.values()] == ["two-sided", "less", "two-sided"]
    two = stats.wilcoxon(glass["n_bb_edges"] - liquid["n_bb_edges"], alternative="two-sided").pvalue
    assert result["n_bb_edges"].pvalue == pytest.approx(two)
    assert (result["n_isolated_b"].statistic, result["n_isolated_b"].pvalue) == (0.0, 1.0)


def test_wilcoxon_table_and_figure():
    glass, liquid = paired_samples(shift=5, n=12)
    result = compare_glass_liquid(glass, liquid)
    text = result.table().splitlines()
    assert text[0].split()[:3] == ["metric", "alternative", "n"]
    assert [line.split()[0] for line in text[2:]] == ["n_components", "n_bb_edges", "n_isolated_a"]
    assert f"{result['n_bb_edges'].pvalue:.3g}" in text[3]
    fig = result.figure()
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert fig.axes[1].get_title().startswith(f"p = {result['n_bb_edges'].pvalue:.2g} (glass < liquid, n = 12)")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["glass", "liquid"]
    # One line per pair joins each glass to its liquid.
    assert sum(list(line.get_xdata()) == [1, 2] for line in fig.axes[0].lines) == 12


def test_wilcoxon_input_errors():
    glass, liquid = paired_samples(shift=5)
    short = {m: v[:20] for m, v in liquid.items()}
    with pytest.raises(InputError, match="30 glass values but 20 liquid values.*paired"):
        compare_glass_liquid(glass, short)
    few_g, few_l = ({m: v[:5] for m, v in d.items()} for d in (glass, liquid))
    with pytest.raises(InputError, match="only 5 pairs.*at least 6"):
        compare_glass_liquid(few_g, few_l)
    nan = {**glass, "n_bb_edges": np.r_[glass["n_bb_edges"][:-1], np.nan]}
    with pytest.raises(InputError, match="glass 'n_bb_edges' holds 1 NaN or infinite"):
        compare_glass_liquid(nan, liquid)
    inf = {**glass, "n_bb_edges": np.r_[glass["n_bb_edges"][:-1], np.inf]}
    with pytest.raises(InputError, match="holds 1 NaN or infinite"):
        compare_glass_liquid(inf, liquid)
    with pytest.raises(InputError, match="alternative names 'n_bb_edge', which is not among the metrics"):
        compare_glass_liquid(glass, liquid, metrics=["n_bb_edges"], alternative={"n_bb_edge": "greater"})
    with pytest.raises(InputError, match="metrics must be metric names"):
        compare_glass_liquid(glass, liquid, metrics=None)
    words = {**glass, "n_bb_edges": ["many"] * 30}
    with pytest.raises(InputError, match="must be numbers"):
        compare_glass_liquid(words, liquid)
    with pytest.raises(InputError, match="no metric 'n_isolated_b'"):
        compare_glass_liquid(glass, liquid, metrics=["n_isolated_b"])
    with pytest.raises(InputError, match="unknown alternative"):
        compare_glass_liquid(glass, liquid, alternative="smaller")


@pytest.mark.parametrize("bad", ["x", -1, 0, 1.5, True])
def test_trough_cut_refuses_a_prominence_that_is_not_a_fraction(bad):
    with pytest.raises(InputError, match="min_prominence is a fraction"):
        trough_cut(bimodal_sample(np.random.default_rng(0)), min_prominence=bad)


def test_trough_cut_reads_a_2d_array_as_one_graph_a_row():
    # np.array of equal-size graphs is a 2-D array: rows are graphs, each one's pinned 0.1 and 4.1 left out
    # (read as one graph, those pinned values made a false second mode).
    rng = np.random.default_rng(3)
    graphs = [rescale_weights(np.exp(rng.normal(0, 1, 5))) for _ in range(400)]
    with pytest.raises(InputError, match="single mode"):
        trough_cut(graphs)
    with pytest.raises(InputError, match="single mode"):
        trough_cut(np.array(graphs))
    with pytest.raises(InputError, match="shape"):
        trough_cut(np.zeros((2, 2, 30)) + 1.0)


def test_the_wilcoxon_test_says_how_many_pairs_it_ranked():
    glass, liquid = {"x": np.r_[1, 1, 1, [0] * 7]}, {"x": np.r_[2, 2, 2, [0] * 7]}
    with pytest.warns(UserWarning, match="only 3 of the 10 pairs differ"):
        test = compare_glass_liquid(glass, liquid, metrics=["x"], alternative="less")["x"]
    assert (test.n, test.n_ranked, test.pvalue) == (10, 3, 0.125)
    with pytest.warns(UserWarning, match="only 3"):
        assert "ranked" in compare_glass_liquid(glass, liquid, metrics=["x"], alternative="less").table()


def test_a_cut_that_keeps_every_edge_of_glass_and_liquid_warns_when_compared():
    ring = np.array([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    spread = [(ring, [1, 2, 3, 4, 5, 6], [0, 1, 0])] * 6  # every weight but the weakest above 0.11
    peaked = [(ring, [1, 0, 0, 0, 0, 0], [0, 1, 0])] * 6  # one edge takes it all
    full = attention_metrics_table(spread)
    np.testing.assert_allclose(full["fraction_high"], 5 / 6)
    kept = attention_metrics_table(spread, cut=0.1)
    assert (kept["fraction_high"] == 5 / 6).all()
    # all edges kept on both sides: the test compares neighbour graphs
    every = attention_metrics_table([(ring, [1, 1, 1, 1, 1, 2], [0, 1, 0])] * 6, cut=PAPER_CUT)
    every = {**every, "fraction_high": np.ones(6)}
    with pytest.warns(AttentionWarning, match="keeps 100.0 % of the glasses' directed edges and 100.0 %"):
        compare_glass_liquid(every, every, metrics=["n_components"])
    # the same from real tables: 39 of a 40-edge ring's edges above the paper's cut, in glass and liquid
    n = 20
    big = np.array([np.r_[np.arange(n), (np.arange(n) + 1) % n], np.r_[(np.arange(n) + 1) % n, np.arange(n)]])
    spread_big = [(big, np.linspace(1.0, 2.0, 2 * n), np.arange(n) % 2)] * 6
    real = attention_metrics_table(spread_big)
    np.testing.assert_allclose(real["fraction_high"], 39 / 40)
    with pytest.warns(AttentionWarning, match="keeps 97.5 % of the glasses' directed edges"):
        compare_glass_liquid(real, real, metrics=["n_components"])
    # a glass whose every edge is high against a liquid with one: the paper's finding, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", AttentionWarning)
        compare_glass_liquid(every, attention_metrics_table(peaked), metrics=["n_components"])


def test_attention_metrics_table_says_what_a_graph_is():
    ring = np.array([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    with pytest.raises(InputError, match=r"a list of \(edge_index, weights, types\)"):
        attention_metrics_table((ring, np.ones(6), [0, 1, 0]))
    with pytest.raises(InputError, match="Classifier.attention gives"):
        attention_metrics_table([(ring, np.ones(6))])
    with pytest.raises(InputError, match="graph 0: expected"):
        attention_metrics_table([ring])


def test_complex_weights_are_refused():
    with pytest.raises(InputError, match="real numbers"):
        rescale_weights(np.array([0.1, 0.2 + 1j, 0.3]))
