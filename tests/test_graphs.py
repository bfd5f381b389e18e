"""Neighbour queries and windows against brute force."""

import numpy as np
import pytest

from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.graphs import b_neighbor_edges, knn, undirected, window
from reference import knn_lists, min_image_distances, random_mixture


@pytest.mark.parametrize("n, seed, xy", [(50, 0, 0.0), (400, 1, 0.0), (400, 2, 0.3)])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_knn_matches_all_pairs_minimum_image(n, seed, xy, k):
    side = np.sqrt(n / 1.2)
    pos, names = random_mixture(n, side, seed)
    frame = Frame.from_arrays(pos, names, {"hoomd": [side, side, 0, xy, 0, 0]})
    qi, pj, d = knn(frame, k)
    dist = min_image_distances(pos, side, side, xy)
    expected = knn_lists(dist, k)
    assert qi.tolist() == np.repeat(np.arange(n), k).tolist()
    assert [sorted(pj[qi == i].tolist()) for i in range(n)] == [sorted(map(int, e)) for e in expected]
    np.testing.assert_allclose(d, dist[qi, pj], rtol=1e-5, atol=1e-5)


def test_knn_of_a_subset_is_not_fooled_by_local_indices():
    # freud's exclude_ii would compare query-local with global indices here.
    side = 12.0
    pos, names = random_mixture(150, side, 3)
    frame = Frame.from_arrays(pos, names, [side, side])
    query = np.array([5, 17, 149, 0])
    qi, pj, _ = knn(frame, 3, query=query)
    expected = knn_lists(min_image_distances(pos, side, side), 3)
    for i in query:
        assert sorted(pj[qi == i].tolist()) == sorted(map(int, expected[i]))
        assert i not in pj[qi == i]


def test_knn_subset_with_coincident_particles_keeps_k_rows():
    frame = Frame.from_arrays([[1, 1], [1, 1], [3, 1], [6, 6]], ["A", "B", "A", "A"], [10, 10])
    qi, pj, d = knn(frame, 2, query=[1])
    assert qi.tolist() == [1, 1]
    assert sorted(pj.tolist()) == [0, 2]


def test_undirected_unions_both_directions():
    edges = undirected(np.array([0, 1, 2, 3]), np.array([1, 0, 3, 0]), 4)
    assert edges.tolist() == [[0, 1], [0, 3], [2, 3]]


def test_edges_cross_the_periodic_boundary():
    # Two particles 0.5 apart across x = 0 / x = 10, the rest far away.
    frame = Frame.from_arrays([[0.2, 5], [9.7, 5], [5, 1], [5, 9]], ["B", "B", "A", "A"], [10, 10])
    assert b_neighbor_edges(frame, k=1).tolist()[0] == [0, 1]


def test_unknown_definition_is_refused():
    frame = Frame.from_arrays([[0, 0], [1, 1], [2, 2]], ["A", "B", "A"], [10, 10])
    with pytest.raises(InputError, match="symmetric"):
        b_neighbor_edges(frame, 1, "literal")


def test_window_wraps_across_the_boundary_and_is_open():
    frame = Frame.from_arrays([[0.2, 0.2], [9.9, 9.9], [5, 5], [1.5, 0]], ["A", "B", "A", "B"], [10, 10])
    w = window(frame, 2.0, center=(0, 0))
    assert w.n_particles == 2 and not w.periodic
    np.testing.assert_allclose(sorted(w.positions[:, 0]), [-0.1, 0.2], atol=1e-6)
    # A window centred anywhere else, in the user's (0..L) coordinates.
    w2 = window(frame, 1.0, center=(15.0, 5.0))  # 15 is 5 modulo 10
    assert w2.n_particles == 1 and w2.types.tolist() == [0]


def test_window_neighbours_stay_inside_the_window():
    side = 20.0
    pos, names = random_mixture(480, side, 4)
    frame = Frame.from_arrays(pos, names, [side, side])
    w = window(frame, 6.0, center=(10.0, 10.0))
    qi, pj, d = knn(w, 2)
    # Open boundaries: distances are plain Euclidean within the window.
    direct = np.hypot(*(w.positions[qi] - w.positions[pj]).T)
    np.testing.assert_allclose(d, direct, rtol=1e-5)
    expected = knn_lists(np.hypot(*(w.positions[:, None, :] - w.positions[None, :, :]).transpose(2, 0, 1)), 2)
    assert [sorted(pj[qi == i].tolist()) for i in range(w.n_particles)] == [sorted(map(int, e)) for e in expected]


@pytest.mark.parametrize("side", [0, -1, 10.5, np.nan, "big"])
def test_bad_window_sides_are_refused(side):
    frame = Frame.from_arrays([[0, 0], [1, 1], [2, 2]], ["A", "B", "A"], [10, 10])
    with pytest.raises(InputError, match="window"):
        window(frame, side)


def _window_brute_force(pos, lx, ly, xy, side, center):
    """Particles with some periodic image in the square window: every image within two cells tried."""
    inside = np.zeros(len(pos), dtype=bool)
    kept = np.zeros((len(pos), 2))
    for n1 in range(-2, 3):
        for n2 in range(-2, 3):
            img = pos + n1 * np.array([lx, 0.0]) + n2 * np.array([xy * ly, ly]) - center
            hit = np.all((img >= -side / 2) & (img < side / 2), axis=1)
            assert not (hit & inside).any()  # at most one image per particle in the square
            inside |= hit
            kept[hit] = img[hit]
    return inside, kept


@pytest.mark.parametrize("xy, side, center", [(0.5, 8.0, (0.0, 0.0)), (0.5, 10.0, (3.0, -2.0)),
                                              (-0.8, 6.0, (7.0, 9.0)), (0.0, 9.0, (4.5, 1.0))])
def test_window_matches_brute_force_over_images_in_tilted_boxes(xy, side, center):
    # The case: box 10 x 10, xy = 0.5, side 8 kept 1,253 of the 1,301 particles in it.
    lx = ly = 10.0
    rng = np.random.default_rng(5)
    frac = rng.random((3000, 2))
    pos = np.column_stack([frac[:, 0] * lx + frac[:, 1] * xy * ly, frac[:, 1] * ly])
    names = np.where(rng.random(3000) < 0.35, "B", "A")
    frame = Frame.from_arrays(pos, names, {"hoomd": [lx, ly, 0, xy, 0, 0]})
    expected, images = _window_brute_force(frame.positions.astype(np.float64), lx, ly, xy, side, np.array(center))
    w = window(frame, side, center=center)
    assert w.n_particles == expected.sum()
    np.testing.assert_allclose(w.positions, images[expected], atol=1e-4)


def test_knn_lists_each_neighbour_once_in_a_tiny_box():
    # Five particles in a 3 x 3 box: the 4th neighbour lies beyond half the box, where freud
    # listed a second image of a particle already found.
    rng = np.random.default_rng(0)
    pos = rng.random((5, 2)) * 3
    frame = Frame.from_arrays(pos, ["A", "B", "A", "A", "B"], [3, 3])
    for query in (None, np.array([1, 4])):
        qi, pj, d = knn(frame, 4 if query is None else 3, query=query)
        pairs = list(zip(qi.tolist(), pj.tolist()))
        assert len(pairs) == len(set(pairs))
        dist = min_image_distances(frame.positions, 3.0, 3.0)
        np.testing.assert_allclose(d, dist[qi, pj], rtol=1e-5)


def test_default_window_is_the_box_centre_in_the_users_coordinates():
    # MDAnalysis boxes start at the origin: the box centre is (5, 5), not (0, 0).
    pos = [[5.0, 5.0], [5.5, 4.5], [0.2, 0.2], [9.8, 9.8]]
    mda_style = Frame.from_arrays(pos, ["A", "B", "A", "B"], [10, 10, 10, 90, 90, 90])
    assert mda_style.box_center == (5.0, 5.0)
    assert sorted(window(mda_style, 2.0).positions[:, 0].tolist()) == pytest.approx([0.0, 0.5])
    centred = Frame.from_arrays(pos, ["A", "B", "A", "B"], {"hoomd": [10, 10, 0, 0, 0, 0]})
    assert window(centred, 2.0).n_particles == 2 and centred.box_center == (0.0, 0.0)


# -- exact neighbours on near-ties (float64 brute force, ties by index) ---------
def _brute_knn(frame, k):
    from reference import min_image_distances

    box = frame.box
    d = min_image_distances(frame.positions, box.Lx, box.Ly, box.xy)
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("noise, tilt, box", [(0.0, 0.0, 24), (3e-6, 0.3, 24), (2e-5, 0.0, 2000.0),
                                              (3e-4, 0.0, 2000.0), (3e-4, 0.2, 4000.0)])
def test_knn_equals_float64_brute_force_on_near_ties(noise, tilt, box):
    # A square lattice: every particle has four neighbours at one distance (noise 0: exact ties,
    # broken by index) or within ~1e-5 of it. In the 2000-wide box the lattice straddles the
    # boundary, where freud's float32 wrapping errs by ~1e-4: the old float32 ranking got
    # 293 of 2000 rows wrong over five such lattices. Noise 3e-4: the same in larger, tilted boxes.
    # (These check exactness; none of them fails even with a tie tolerance of 1e-9, so they do
    # not measure the tolerance's margin.)
    _check_near_ties(noise, tilt, box)


def _check_near_ties(noise, tilt, box):
    rng = np.random.default_rng(5)
    side = 20
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2) + 0.5
    pos = grid + rng.normal(scale=noise, size=grid.shape)
    pos[:, 0] += box / 2 - side / 2
    names = np.where(rng.random(len(pos)) < 0.35, "B", "A")
    frame = Frame.from_arrays(pos, names, box=[box, box, tilt] if tilt else [box, box])
    for k in (2, 3, 5):
        qi, pj, d = knn(frame, k)
        assert np.array_equal(pj.reshape(-1, k), _brute_knn(frame, k))
        assert np.array_equal(qi, np.repeat(np.arange(frame.n_particles), k))


@pytest.mark.parametrize("chunk", [None, 1000])
def test_knn_exact_on_a_bundled_frame(chunk, monkeypatch):
    # chunk 1000: the 4320 query particles go to freud in five chunks (as frames above
    # 32,768 particles do), with the near-ties of every chunk asked again together.
    import gsd.hoomd

    from mda_glassml import graphs
    from mda_glassml.data import EXAMPLE_INHERENT_STRUCTURES

    if chunk:
        monkeypatch.setattr(graphs, "_CHUNK", chunk)
    with gsd.hoomd.open(EXAMPLE_INHERENT_STRUCTURES) as traj:
        frame = Frame.from_gsd(traj[-1])
    qi, pj, _ = knn(frame, 3)
    assert np.array_equal(pj.reshape(-1, 3), _brute_knn(frame, 3))
    assert np.array_equal(qi, np.repeat(np.arange(frame.n_particles), 3))
    query = np.arange(frame.n_particles)[::-1][:2500]  # a subset in reverse order: rows by index
    qs, ps, _ = knn(frame, 3, query=query)
    assert np.array_equal(qs, np.repeat(np.sort(query), 3))
    assert np.array_equal(ps.reshape(-1, 3), _brute_knn(frame, 3)[np.sort(query)])


def test_knn_in_chunks_is_exact_on_near_ties(monkeypatch):
    from mda_glassml import graphs

    monkeypatch.setattr(graphs, "_CHUNK", 64)
    _check_near_ties(2e-5, 0.0, 2000.0)


def test_windows_cut_from_nearby_cells_are_the_windows_of_the_whole_frame():
    # square_tiles and the window map cut each window from nearby grid cells only (O(N) in all); the
    # windows must be exactly those cut from every particle: same particles, same order, same positions.
    import gsd.hoomd

    from mda_glassml.data import EXAMPLE_TRAJECTORY
    from mda_glassml.graphs import replicate, window_members, windows_at

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        frame = replicate(Frame.from_gsd(traj[20]), 2, 1)  # a 120 x 60 box
    rng = np.random.default_rng(3)
    centers = np.r_[rng.uniform(-70, 70, size=(30, 2)), [[60.0, 30.0], [-60.0, -30.0]]]  # edges wrap
    for side in (7.5, 30.0):
        for c, (cut, members) in zip(centers, windows_at(frame, side, centers)):
            ref, ref_members = window_members(frame, side, c)
            assert np.array_equal(members, ref_members)
            assert np.array_equal(cut.positions, ref.positions) and np.array_equal(cut.types, ref.types)


@pytest.mark.parametrize("center", [(1, 2, 3), (float("nan"), 0.0), "ab", [[1, 2]]])
def test_a_bad_window_center_is_named(center):
    frame = Frame.from_arrays([[0, 0], [1, 1], [2, 2]], ["A", "B", "A"], [10, 10])
    with pytest.raises(InputError, match="window_center must be two finite numbers"):
        window(frame, 4.0, center)
