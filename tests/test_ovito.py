"""The OVITO modifiers in real pipelines, checked against the core functions called directly."""

import gsd.hoomd
import numpy as np
import pytest

pytest.importorskip("ovito")

import torch  # noqa: E402
from conftest import write_gsd  # noqa: E402
from ovito.io import import_file  # noqa: E402
from reference import random_mixture  # noqa: E402

from mda_glassml.attention import PAPER_CUT, attention_graph, rescale_weights  # noqa: E402
from mda_glassml.classify import Classifier  # noqa: E402
from mda_glassml.data import EXAMPLE_TRAJECTORY  # noqa: E402
from mda_glassml.graphs import window_members  # noqa: E402
from mda_glassml.errors import InputError
from mda_glassml.frames import Frame  # noqa: E402
from mda_glassml.metrics import b_neighbor_metrics  # noqa: E402
from mda_glassml.models.bundle import save_bundle  # noqa: E402
from mda_glassml.models.dmpnn import DMPNN  # noqa: E402
from mda_glassml.models.featurize import Featurizer  # noqa: E402
from mda_glassml.ovito import AttentionModifier, BNeighborModifier, GlassClassifierModifier  # noqa: E402
from mda_glassml.ovito.modifiers import cached_classifier  # noqa: E402

HOT, COLD = 1, 20  # T = 1.9 and 0.05 in the example trajectory


def make_bundle(path, seed):
    """An untrained, seeded D-MPNN (hidden 16): the plumbing is tested here, not the accuracy."""
    torch.manual_seed(seed)
    feat = Featurizer(k=2)
    model = DMPNN(feat.node_dim, feat.edge_dim, hidden=16, depth=3, readout="mean")
    torch.nn.init.normal_(model.ffn[-1].weight, std=1.0)  # the zero-initialised output layer would give 0.5 always
    save_bundle(path, model, feat, card={"note": "untrained, for tests"})
    return str(path)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("model") / "model.pt", seed=1)


@pytest.fixture(scope="module")
def gsd_frames():
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        return {i: Frame.from_gsd(traj[i], frame=i) for i in (HOT, COLD)}


def compute(modifier, frame=COLD, path=EXAMPLE_TRAJECTORY):
    pipeline = import_file(path)
    pipeline.modifiers.append(modifier)
    return pipeline.compute(frame)


def one_frame_gsd(path, box, positions, is_b):
    """A GSD file of one frame (types A and B, 2D if the box's Lz is 0); its path and the frame."""
    f = gsd.hoomd.Frame()
    f.configuration.dimensions = 2 if box[2] == 0 else 3
    f.configuration.box = box
    f.particles.N = len(positions)
    f.particles.types = ["A", "B"]
    f.particles.typeid = np.asarray(is_b).astype(np.uint32)
    f.particles.position = np.asarray(positions, dtype=np.float32)
    with gsd.hoomd.open(str(path), "w") as traj:
        traj.append(f)
    return str(path), f


def edge_set(pairs):
    return {tuple(sorted(p)) for p in np.asarray(pairs).tolist()}


def attributes(data, group):
    prefix = f"GlassML.{group}."
    return {key[len(prefix):]: value for key, value in data.attributes.items() if key.startswith(prefix)}


def test_frame_from_ovito_equals_frame_from_gsd(gsd_frames):
    frame = Frame.from_ovito(import_file(EXAMPLE_TRAJECTORY).compute(COLD))
    expected = gsd_frames[COLD]
    assert frame.index == COLD and frame.type_names == ("A", "B")
    np.testing.assert_array_equal(frame.positions, expected.positions)
    np.testing.assert_array_equal(frame.types, expected.types)
    assert frame.box == expected.box


def test_frame_from_ovito_tilted_box(tmp_path):
    pos, names = random_mixture(200, 12.0, 3)
    path, snapshot = one_frame_gsd(tmp_path / "tilted.gsd", [12.0, 13.0, 0, 0.3, 0, 0], np.c_[pos - 6.0, 0 * pos[:, 0]],
                                   names == "B")
    expected = Frame.from_gsd(snapshot)
    frame = Frame.from_ovito(import_file(path).compute(0))
    assert frame.box == expected.box
    np.testing.assert_allclose(frame.positions, expected.positions, atol=1e-5)
    np.testing.assert_array_equal(frame.types, expected.types)


@pytest.mark.parametrize("definition", ["symmetric", "directed"])
@pytest.mark.parametrize("index", [HOT, COLD])
def test_bneighbor_modifier_matches_core(gsd_frames, index, definition):
    data = compute(BNeighborModifier(k=2, definition=definition), index)
    expected = b_neighbor_metrics(gsd_frames[index], 2, definition)
    assert attributes(data, "BNeighbor") == expected.counts()
    np.testing.assert_array_equal(data.particles["Component"], expected.component)
    np.testing.assert_array_equal(data.particles["Isolated"], expected.isolated.astype(int))
    bonds = data.particles.bonds
    assert bonds.count == len(expected.edges)
    assert edge_set(bonds.topology) == edge_set(expected.edges)
    # Bonds across the periodic boundary carry their image: every bond vector is short.
    topology = np.asarray(bonds.topology)
    positions = np.asarray(data.particles.positions)
    vectors = positions[topology[:, 1]] - positions[topology[:, 0]] + np.asarray(bonds.pbc_vectors) @ data.cell[:3, :3].T
    assert np.linalg.norm(vectors, axis=1).max() < 3.0
    assert np.count_nonzero(bonds.pbc_vectors) > 0


def test_bneighbor_modifier_without_bonds_keeps_input_bonds_absent():
    data = compute(BNeighborModifier(create_bonds=False, k=3))
    assert data.particles.bonds is None
    assert data.attributes["GlassML.BNeighbor.n_components"] >= 1


def test_bneighbor_modifier_on_a_window_matches_the_windowed_metrics(gsd_frames):
    data = compute(BNeighborModifier(window=12.0))
    expected = b_neighbor_metrics(gsd_frames[COLD], 2, window=12.0)
    _, members = window_members(gsd_frames[COLD], 12.0)
    assert attributes(data, "BNeighbor") == expected.counts()
    component = np.asarray(data.particles["Component"])
    np.testing.assert_array_equal(component[members], expected.component)
    assert (np.delete(component, members) == -1).all()
    assert edge_set(data.particles.bonds.topology) == edge_set(members[expected.edges])


def test_a_misspelt_parameter_is_refused_with_the_right_one():
    with pytest.raises(InputError, match="'defintion' \\(did you mean 'definition'\\?\\)"):
        BNeighborModifier(defintion="directed")


def test_glass_classifier_modifier_matches_classifier(bundle, gsd_frames):
    classifier = Classifier(bundle)
    expected = classifier.probabilities([gsd_frames[HOT], gsd_frames[COLD]])
    assert np.ptp(expected) > 1e-3  # a test model whose outputs differ between frames
    for index, p in zip((HOT, COLD), expected):
        data = compute(GlassClassifierModifier(model=bundle), index)
        assert data.attributes["GlassML.P_glass"] == pytest.approx(p, abs=1e-6)
        assert "Local P(glass)" not in data.particles


def test_glass_classifier_modifier_windows(bundle, gsd_frames):
    expected = Classifier(bundle).window_map(gsd_frames[COLD], 20.0)
    data = compute(GlassClassifierModifier(model=bundle, window=20.0))
    assert data.attributes["GlassML.P_glass"] == pytest.approx(expected.probability, abs=1e-6)
    np.testing.assert_allclose(data.particles["Local P(glass)"], expected.local_probability, atol=1e-6)


def test_classifier_is_cached_and_follows_the_model_trait(bundle, tmp_path, gsd_frames):
    assert cached_classifier(bundle) is cached_classifier(bundle)
    other = make_bundle(tmp_path / "other.pt", seed=2)
    modifier = GlassClassifierModifier(model=bundle)
    pipeline = import_file(EXAMPLE_TRAJECTORY)
    pipeline.modifiers.append(modifier)
    first = pipeline.compute(COLD).attributes["GlassML.P_glass"]
    modifier.model = other
    second = pipeline.compute(COLD).attributes["GlassML.P_glass"]
    assert second == pytest.approx(Classifier(other).probabilities([gsd_frames[COLD]])[0], abs=1e-6)
    assert abs(first - second) > 1e-6
    # A rewritten bundle file is reloaded.
    cached = cached_classifier(other)
    make_bundle(other, seed=0)
    assert cached_classifier(other) is not cached


@pytest.mark.parametrize("cut", ["paper", "value"])
def test_attention_modifier_matches_core(bundle, gsd_frames, cut):
    frame = gsd_frames[COLD]
    data = compute(AttentionModifier(model=bundle, cut=cut, cut_value=1.5))
    # As the MDAnalysis face AttentionGraphMetrics does it.
    classifier = Classifier(bundle)
    (edge_index, weights), = classifier.model.attention_per_graph(classifier._collate([frame]))
    expected = attention_graph(edge_index, weights, frame.types, cut=1.5 if cut == "value" else cut)
    got = attributes(data, "Attention")
    assert {key: got[key] for key in expected.counts()} == expected.counts()
    value = 1.5 if cut == "value" else PAPER_CUT
    assert got["cut"] == value
    assert got["fraction_high"] == pytest.approx((rescale_weights(weights) > value).mean())
    assert got["isolated_b_per_particle"] == pytest.approx(expected.n_isolated_b / frame.n_particles)
    np.testing.assert_array_equal(data.particles["Attention Component"], expected.component)
    np.testing.assert_array_equal(data.particles["Attention Isolated"], expected.isolated.astype(int))
    bonds = data.particles.bonds
    topology = np.asarray(bonds.topology)
    assert edge_set(topology) == edge_set(edge_index.T)  # one bond per kNN pair
    assert bonds.count == edge_index.shape[1] // 2
    high = np.asarray(bonds["High attention"]) == 1
    assert edge_set(topology[high]) == edge_set(expected.edges)
    largest = {}
    for (i, j), w in zip(edge_index.T.tolist(), rescale_weights(weights)):
        key = (min(i, j), max(i, j))
        largest[key] = max(largest.get(key, 0.0), w)
    np.testing.assert_allclose(bonds["Attention"], [largest[tuple(p)] for p in topology.tolist()])
    if cut == "value":
        assert 0 < high.sum() < len(high)


def test_attention_modifier_on_a_window_matches_the_window_and_warns_on_whole_frames(gsd_frames):
    from mda_glassml.classify import DensityWarning
    from mda_glassml.graphs import window_members

    frame = gsd_frames[COLD]
    data = compute(AttentionModifier(window=12.0))  # the shipped paper model, on the side it learnt
    cut, members = window_members(frame, 12.0)
    edge_index, weights = Classifier("ka2d-dmpnn-paper").attention(cut)
    expected = attention_graph(edge_index, weights, cut.types, cut="paper")
    got = attributes(data, "Attention")
    assert {key: got[key] for key in expected.counts()} == expected.counts()
    component = np.asarray(data.particles["Attention Component"])
    outside = np.setdiff1d(np.arange(frame.n_particles), members)
    np.testing.assert_array_equal(component[members], expected.component)
    assert (component[outside] == -1).all() and (np.asarray(data.particles["Attention Isolated"])[outside] == -1).all()
    topology = np.asarray(data.particles.bonds.topology)
    assert edge_set(topology) == edge_set(members[edge_index.T])  # bonds between the window's particles
    with pytest.warns(DensityWarning, match="5 times the side of the windows this model learnt its attention on"):
        Classifier("ka2d-dmpnn-paper").attention(frame)


def test_lammps_style_type_names(tmp_path, bundle):
    n, side = 400, float(np.sqrt(400 / 1.2))
    pos, names = random_mixture(n, side, 5)
    numbered = np.where(names == "A", "1", "2")
    path = write_gsd(tmp_path / "lammps_types.gsd", [(pos, numbered, side)], types=("1", "2"))
    with gsd.hoomd.open(path) as traj:
        expected = b_neighbor_metrics(Frame.from_gsd(traj[0], a_type="1", b_type="2"))
    data = compute(BNeighborModifier(a_type="1", b_type="2"), 0, path)
    assert attributes(data, "BNeighbor") == expected.counts()
    data = compute(GlassClassifierModifier(model=bundle, a_type="1", b_type="2"), 0, path)
    assert 0 <= data.attributes["GlassML.P_glass"] <= 1


def test_unnamed_types_of_a_lammps_dump(tmp_path):
    """LAMMPS dumps have numeric types without names, and a 3D cell around planar particles."""
    n, side = 300, 15.0
    pos, names = random_mixture(n, side, 7)
    path = tmp_path / "dump.lammpstrj"
    lines = ["ITEM: TIMESTEP", "0", "ITEM: NUMBER OF ATOMS", str(n), "ITEM: BOX BOUNDS pp pp pp",
             f"0 {side}", f"0 {side}", "-0.5 0.5", "ITEM: ATOMS id type x y z"]
    lines += [f"{i + 1} {1 if t == 'A' else 2} {x} {y} 0.0" for i, ((x, y), t) in enumerate(zip(pos, names))]
    path.write_text("\n".join(lines) + "\n")
    data = import_file(str(path)).compute(0)
    assert not data.cell.is2D
    frame = Frame.from_ovito(data, a_type="1", b_type="2")
    np.testing.assert_array_equal(frame.types, (names == "B").astype(np.int8))
    expected = b_neighbor_metrics(Frame.from_arrays(pos, names, [side, side]))
    assert attributes(compute(BNeighborModifier(a_type="1", b_type="2"), 0, str(path)), "BNeighbor") == expected.counts()


def test_unknown_type_names_reach_the_user():
    with pytest.raises(InputError, match=r"particle type\(s\) 'C' not present; the types present are 'A', 'B'"):
        compute(BNeighborModifier(b_type="C"))
    with pytest.raises(InputError, match="'1'.*not present.*LAMMPS"):
        compute(AttentionModifier(a_type="1", b_type="2"))


def test_3d_data_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    path, _ = one_frame_gsd(tmp_path / "3d.gsd", [8, 8, 8, 0, 0, 0], rng.uniform(-4, 4, (200, 3)), rng.random(200) < 0.35)
    with pytest.raises(InputError, match="is 3D.*only 2D systems"):
        compute(BNeighborModifier(), 0, path)


def test_non_periodic_cell_is_refused():
    pipeline = import_file(EXAMPLE_TRAJECTORY)

    def open_boundaries(frame, data):
        data.cell_.pbc = (False, False, False)

    pipeline.modifiers.append(open_boundaries)
    pipeline.modifiers.append(BNeighborModifier())
    with pytest.raises(InputError, match="not periodic in x and y"):
        pipeline.compute(COLD)


def test_attention_needs_a_dmpnn_with_attention(tmp_path):
    feat = Featurizer(k=2)
    path = tmp_path / "plain.pt"
    save_bundle(path, DMPNN(feat.node_dim, feat.edge_dim, hidden=8, attention=False), feat)
    with pytest.raises(InputError, match="without attention"):
        compute(AttentionModifier(model=str(path)))


def test_bad_window_reaches_the_user(bundle):
    with pytest.raises(InputError, match="window side"):
        compute(GlassClassifierModifier(model=bundle, window=100.0))


def test_a_modifiers_warning_points_at_the_pipeline_line(tmp_path, gsd_frames):
    # modify() is called from OVITO's pipeline code: the warning belongs to the user's compute(), not to OVITO
    from mda_glassml.classify import DensityWarning

    frame = gsd_frames[COLD]
    s = 1.37 ** -0.5  # 37 % denser: a band no other test warns in
    positions = np.zeros((frame.n_particles, 3))
    positions[:, :2] = frame.positions * s
    path, _ = one_frame_gsd(tmp_path / "dense.gsd", [frame.box.Lx * s, frame.box.Ly * s, 0, 0, 0, 0], positions,
                            frame.types)
    with pytest.warns(DensityWarning, match="37.0% above the training density") as record:
        compute(GlassClassifierModifier(model="ka2d-dmpnn"), frame=0, path=path)
    assert {w.filename for w in record if "training density" in str(w.message)} == {__file__}


def test_modifiers_take_lammps_type_numbers():
    assert BNeighborModifier(a_type=1, b_type=2).a_type == "1"  # a traits error before; the other faces take ints
