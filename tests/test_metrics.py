"""B-neighbor metrics: hand-worked answers, brute force, invariances, real data."""

import numpy as np
import pytest

from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.metrics import b_neighbor_metrics, graph_counts
from reference import b_neighbor_reference, random_mixture


def rows_frame(rows):
    """A rectangular lattice: columns 1.0 apart (the two nearest neighbours are left and right,
    across the periodic boundary at the ends), rows 1.3 apart. ``rows`` gives the types."""
    pos, names = [], []
    for r, row in enumerate(rows):
        for c, t in enumerate(row):
            pos.append([c * 1.0 + 0.5, r * 1.3 + 0.65])
            names.append(t)
    return Frame.from_arrays(pos, names, [len(rows[0]) * 1.0, len(rows) * 1.3])


def test_hand_worked_lattice_with_a_bb_edge_across_the_boundary():
    # Row 0: B A A B -> ring 0-1-2-3-0; kept: 0-1, 2-3, 3-0 (B-B across x = 0): one component.
    # Row 1: A B A A -> kept 0-1, 1-2: one component, A at column 3 isolated.
    # Row 2: A A A A -> nothing kept: four isolated A.
    frame = rows_frame(["BAAB", "ABAA", "AAAA"])
    for definition in ("symmetric", "directed"):
        m = b_neighbor_metrics(frame, k=2, definition=definition)
        assert (m.n_components, m.n_bb_edges, m.n_isolated_a, m.n_isolated_b) == (2, 1, 5, 0)
        assert m.edges.tolist() == [[0, 1], [0, 3], [2, 3], [4, 5], [5, 6]]
        assert m.component.tolist() == [0, 0, 0, 0, 1, 1, 1, -1, -1, -1, -1, -1]
        assert m.isolated.sum() == 5
        assert m.bb_edges_per_particle == pytest.approx(1 / 12)
        assert m.components_per_particle == pytest.approx(2 / 12)
        assert m.isolated_a_per_particle == pytest.approx(5 / 12)


def test_the_two_definitions_differ_where_an_a_picks_a_b_that_does_not_pick_it():
    # On a line (rows far apart, box wide): A0 at 0, B1 at 1.0, A2 at 1.6, A3 at 5.
    # k = 1: A0's nearest is B1 (kept in "symmetric"), B1's nearest is A2 (both definitions).
    frame = Frame.from_arrays([[0, 0], [1.0, 0], [1.6, 0], [5, 0]], ["A", "B", "A", "A"], [20, 20])
    sym = b_neighbor_metrics(frame, k=1, definition="symmetric")
    lit = b_neighbor_metrics(frame, k=1, definition="directed")
    assert sym.edges.tolist() == [[0, 1], [1, 2]]
    assert (sym.n_components, sym.n_isolated_a) == (1, 1)
    assert lit.edges.tolist() == [[1, 2]]
    assert (lit.n_components, lit.n_isolated_a) == (1, 2)


@pytest.mark.parametrize("n", [30, 200, 1000])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("definition", ["symmetric", "directed"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_agrees_exactly_with_brute_force_and_networkx(n, seed, definition, k):
    side = float(np.sqrt(n / 1.2))
    pos, names = random_mixture(n, side, seed)
    m = b_neighbor_metrics(Frame.from_arrays(pos, names, [side, side]), k, definition)
    components, bb, isolated_a, edges = b_neighbor_reference(pos, names, (side, side), k, definition)
    assert (m.n_components, m.n_bb_edges, m.n_isolated_a) == (components, bb, isolated_a)
    assert {tuple(e) for e in m.edges.tolist()} == edges
    assert m.n_isolated_b == 0


def test_invariant_under_translation_rewrapping_and_permutation():
    side = 18.0
    pos, names = random_mixture(390, side, 7)
    base = b_neighbor_metrics(Frame.from_arrays(pos, names, [side, side]))
    shifted = b_neighbor_metrics(Frame.from_arrays(pos + [7.3, -40.1], names, [side, side]))
    perm = np.random.default_rng(0).permutation(len(pos))
    permuted = b_neighbor_metrics(Frame.from_arrays(pos[perm], names[perm], [side, side]))
    for m in (shifted, permuted):
        assert (m.n_components, m.n_bb_edges, m.n_isolated_a) == (base.n_components, base.n_bb_edges, base.n_isolated_a)
    # Labels follow the particles through the permutation.
    assert (permuted.isolated == base.isolated[perm]).all()


def test_graph_counts_counts_isolated_b_when_a_graph_leaves_b_alone():
    types = np.array([0, 1, 1, 0], dtype=np.int8)
    m = graph_counts(np.array([[0, 1]]), types)
    assert (m.n_components, m.n_bb_edges, m.n_isolated_a, m.n_isolated_b) == (1, 0, 1, 1)
    empty = graph_counts(np.empty((0, 2)), types)
    assert (empty.n_components, empty.n_isolated_a, empty.n_isolated_b) == (0, 2, 2)


def test_window_metrics_equal_metrics_of_the_cut_out_particles():
    side = 30.0
    pos, names = random_mixture(1080, side, 5)
    frame = Frame.from_arrays(pos, names, [side, side])
    m = b_neighbor_metrics(frame, window=8.0, window_center=(29.0, 3.0))  # wraps in x
    d = (pos - [29.0, 3.0] + side / 2) % side - side / 2
    inside = np.all((d >= -4) & (d < 4), axis=1)
    # Brute force on the window's particles with open boundaries: a box too big to wrap.
    ref = b_neighbor_reference(d[inside] + 100, names[inside], (1000.0, 1000.0))
    assert m.n_particles == inside.sum()
    assert (m.n_components, m.n_bb_edges, m.n_isolated_a) == ref[:3]


def test_window_too_small_for_k_is_refused():
    frame = Frame.from_arrays([[0, 0], [1, 0], [5, 5]], ["A", "B", "A"], [10, 10])
    with pytest.raises(InputError, match="k=2"):
        b_neighbor_metrics(frame, k=2, window=3.0, window_center=(0.5, 0))


def test_example_liquid_has_more_of_everything_than_the_glass(example_universe):
    u = example_universe
    first = b_neighbor_metrics(Frame.from_atomgroup(u.atoms))
    u.trajectory[-1]
    last = b_neighbor_metrics(Frame.from_atomgroup(u.atoms))
    assert first.n_components > 5 * max(last.n_components, 1)
    assert first.n_bb_edges > 5 * max(last.n_bb_edges, 1)
    assert first.n_isolated_a > 2 * last.n_isolated_a


def test_window_metrics_default_to_the_box_centre():
    # As documented: the default window sits at the box centre (here (5, 5), MDAnalysis' convention).
    from mda_glassml.graphs import window

    rng = np.random.default_rng(2)
    pos = rng.random((400, 2)) * 18
    names = np.where(rng.random(400) < 0.35, "B", "A")
    frame = Frame.from_arrays(pos, names, [18, 18, 18, 90, 90, 90])
    default = b_neighbor_metrics(frame, window=6.0)
    at_centre = b_neighbor_metrics(frame, window=6.0, window_center=(9.0, 9.0))
    assert default.n_particles == at_centre.n_particles == window(frame, 6.0, (9.0, 9.0)).n_particles
    assert (default.n_components, default.n_bb_edges) == (at_centre.n_components, at_centre.n_bb_edges)
    assert default.n_particles != b_neighbor_metrics(frame, window=6.0, window_center=(0.0, 0.0)).n_particles


def test_a_window_center_without_a_window_is_refused():
    from mda_glassml.errors import InputError

    frame = Frame.from_arrays([[0, 0], [1, 1], [2, 2], [3, 0]], ["A", "B", "A", "B"], [10, 10])
    with pytest.raises(InputError, match="window_center without window"):
        b_neighbor_metrics(frame, 2, window_center=(1.0, 1.0))


def test_swapped_types_warn():
    # B the majority: the B-neighbor graph of the large particles, silently (classify already asked)
    import warnings

    from reference import random_mixture

    from mda_glassml.errors import GlassMLWarning

    side = float(np.sqrt(300 / 1.2))
    pos, names = random_mixture(300, side, 0)
    frame = Frame.from_arrays(pos, names, box=[side, side])
    with warnings.catch_warnings():
        warnings.simplefilter("error", GlassMLWarning)
        b_neighbor_metrics(frame)
    swapped = Frame.from_arrays(pos, names, box=[side, side], a_type="B", b_type="A")
    with pytest.warns(GlassMLWarning, match="are a_type and b_type swapped"):
        b_neighbor_metrics(swapped)
