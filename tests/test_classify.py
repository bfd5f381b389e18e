"""Classification of user trajectories: the core, the MDAnalysis faces (all backends), the CLI, bad input.

The plumbing is tested with small seeded models saved as bundles; the shipped
models' accuracy is tested on the packaged held-out set (test_pretrained.py).
"""

import csv
import re
import warnings

import MDAnalysis as mda
import numpy as np
import pytest
import torch
from conftest import write_gsd
from reference import random_mixture
from torch_geometric.data import Batch

from mda_glassml.analysis import AttentionGraphMetrics, CNNClassifier, GlassClassifier
from mda_glassml.attention import attention_graph, attention_metrics_table, rescale_weights, trough_cut
from mda_glassml.classify import Classifier
from mda_glassml.cli import main
from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.errors import InputError
from mda_glassml.frames import DensityWarning, Frame
from mda_glassml.graphs import window, window_mask
from mda_glassml.models.bundle import save_bundle
from mda_glassml.models.cnn import CNN
from mda_glassml.models.dmpnn import DMPNN
from mda_glassml.models.featurize import Featurizer
from mda_glassml.models.render import Renderer

CARD = {"data": {"density": 1.2, "box_side": 60.0}}


@pytest.fixture(scope="module")
def dmpnn_path(tmp_path_factory):
    torch.set_num_threads(1)
    feat = Featurizer(k=2, n_rbf=8)
    torch.manual_seed(1)
    model = DMPNN(feat.node_dim, feat.edge_dim, hidden=16, depth=3, readout="mean")
    torch.nn.init.normal_(model.ffn[-1].weight, std=0.5)  # not the zero start: outputs must vary
    path = tmp_path_factory.mktemp("models") / "dmpnn.pt"
    save_bundle(path, model, feat, card=CARD)
    return str(path)


@pytest.fixture(scope="module")
def cnn_path(tmp_path_factory):
    torch.manual_seed(2)
    model = CNN(image_size=64)
    path = tmp_path_factory.mktemp("models") / "cnn.pt"
    save_bundle(path, model, Renderer(size=64), card=CARD)
    return str(path)


@pytest.fixture()
def u():
    return mda.Universe(EXAMPLE_TRAJECTORY)


def small_frame(seed=0, n=300):
    side = float(np.sqrt(n / 1.2))
    pos, names = random_mixture(n, side, seed)
    return Frame.from_arrays(pos, names, box=[side, side])


# -- the core ----------------------------------------------------------------
def test_probabilities_are_the_models_batched_or_not(dmpnn_path):
    clf = Classifier(dmpnn_path, batch_size=3)
    frames = [small_frame(s) for s in range(5)]
    p = clf.probabilities(frames)
    feat, model = clf.bundle.featurizer, clf.model
    with torch.no_grad():
        alone = [torch.sigmoid(model(Batch.from_data_list([feat.graph(f)]))).item() for f in frames]
    np.testing.assert_allclose(p, alone, atol=1e-6)
    assert p.std() > 0


def test_window_map_is_the_mean_over_windows_holding_each_particle(dmpnn_path):
    clf = Classifier(dmpnn_path)
    frame = small_frame(7)
    side = 6.0
    m = clf.window_map(frame, side)
    assert len(m.centers) == int(np.ceil(frame.box.Lx / 3.0)) ** 2
    assert m.probability == pytest.approx(m.window_probability.mean())
    direct = clf.probabilities([window(frame, side, c) for c in m.centers])
    np.testing.assert_allclose(m.window_probability, direct, atol=1e-6)
    masks = np.array([window_mask(frame, side, c) for c in m.centers])
    assert masks.any(axis=0).all()  # every particle is in some window
    expected = (masks * direct[:, None]).sum(0) / masks.sum(0)
    np.testing.assert_allclose(m.local_probability, expected, atol=1e-6)


def test_window_map_refuses_a_bad_side_or_stride_before_minimising(dmpnn_path, monkeypatch):
    import mda_glassml.simulation.inherent as inherent

    def never(*args, **kwargs):
        raise AssertionError("minimised before the window side was checked")

    monkeypatch.setattr(inherent, "inherent_frames", never)
    clf = Classifier(dmpnn_path, inherent="lammps")
    frame = small_frame(7)
    with pytest.raises(InputError, match=r"window side -3.0 must be > 0"):
        clf.window_map(frame, -3.0)
    with pytest.raises(InputError, match=r"no larger than the box's shorter side"):
        clf.window_map(frame, frame.box.Lx * 2)
    for stride in (0.0, float("nan")):
        with pytest.raises(InputError, match="window stride must be a positive length"):
            clf.window_map(frame, 6.0, stride=stride)


def test_density_warning_says_the_numbers(dmpnn_path):
    clf = Classifier(dmpnn_path)
    side = float(np.sqrt(300 / 0.6))
    pos, names = random_mixture(300, side, 0)
    with pytest.warns(DensityWarning, match=r"density 0\.6 is 50\.0% below the training density 1\.2"):
        clf.probabilities([Frame.from_arrays(pos, names, box=[side, side])])


def test_a_few_percent_off_the_training_density_warns_once_per_density(example_universe):
    # The shipped models read density: 2 % denser moves the D-MPNN's crossing from 0.399 to 0.307 (classify.rst).
    import warnings

    frame = Frame.from_atomgroup(example_universe.atoms)
    names = np.where(frame.types == 0, "A", "B")

    def scaled(drho):
        s = (1 + drho) ** -0.5
        return Frame.from_arrays(frame.positions * s, names, box=[frame.box.Lx * s, frame.box.Ly * s])

    clf = Classifier("ka2d-dmpnn")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DensityWarning)
        clf.probabilities([frame, scaled(0.005), scaled(-0.005)])
    with pytest.warns(DensityWarning, match=r"2\.0% above the training density") as record:
        clf.probabilities([scaled(0.02), scaled(0.021)])  # one run at one density: one warning
    assert len([w for w in record if "training density" in str(w.message)]) == 1
    # the same classifier (OVITO keeps one per model) warns again for another file at another density
    with pytest.warns(DensityWarning, match=r"5\.0% below"):
        clf.probabilities([scaled(-0.05)])


def test_overlapping_particles_are_flagged(dmpnn_path, example_universe):
    import warnings

    clf = Classifier(dmpnn_path)
    frame = Frame.from_atomgroup(example_universe.atoms)  # T = 2: closest pair 0.71 apart
    with warnings.catch_warnings():
        warnings.simplefilter("error", DensityWarning)
        clf.probabilities([frame])
    # a 5x compressed copy: density 6 and every particle overlapping; both said, with the numbers
    s = 1 / np.sqrt(5)
    squeezed = Frame.from_arrays(frame.positions * s, np.where(frame.types == 0, "A", "B"),
                                 box=[frame.box.Lx * s, frame.box.Ly * s])
    with pytest.warns(DensityWarning) as record:
        Classifier(dmpnn_path).probabilities([squeezed])
    text = " ".join(str(w.message) for w in record)
    assert "number density 6 is 400.0% above the training density 1.2" in text
    assert "4320 particles have a neighbour closer than 0.5" in text and "overlaps unphysically" in text
    assert "frame None" not in text


@pytest.mark.parametrize("tile_nodes", [16384, 1000])  # whole-frame batches, and tiled graphs
def test_one_overlapping_pair_is_found_from_the_graph(dmpnn_path, example_universe, tile_nodes):
    # The D-MPNN path reads the graph's edge lengths instead of searching: one pair pushed to 0.3 apart in
    # the second frame of a batch is still found, counted and placed.
    clf = Classifier(dmpnn_path, tile_nodes=tile_nodes)
    frame = Frame.from_atomgroup(example_universe.atoms)
    pos = frame.positions.copy()
    i = 100
    j = int(np.argsort(np.linalg.norm(pos - pos[i], axis=1))[1])
    pos[j] = pos[i] + 0.3 * (pos[j] - pos[i]) / np.linalg.norm(pos[j] - pos[i])
    bad = Frame(pos, frame.types, frame.box, True, 7, frame.type_names)
    with pytest.warns(DensityWarning, match="frame 7: 2 particles have a neighbour closer than 0.5 "
                                            r"\(closest 0.3;") as record:
        clf.probabilities([frame, bad])
    assert len(record) == 1


def test_small_windows_at_the_right_density_do_not_warn(dmpnn_path, example_universe):
    import warnings

    from mda_glassml.graphs import window

    clf = Classifier(dmpnn_path)
    rng = np.random.default_rng(3)
    glass = Frame.from_atomgroup(example_universe.atoms)  # the bundled run's first frame: density 1.2
    box = glass.box
    # windows of side 6 (~43 particles): counts scatter by ~15 % at the right density, which is not a mismatch
    cut = [window(glass, 6.0, c) for c in (rng.random((40, 2)) - 0.5) * [box.Lx, box.Ly]]
    assert max(abs(w.n_particles / w.area / 1.2 - 1) for w in cut) > 0.1  # the old rule would have warned
    with warnings.catch_warnings():
        warnings.simplefilter("error", DensityWarning)
        for w in cut:
            clf.check(w)
    # a window of a half-density frame still warns
    side = float(np.sqrt(600 / 0.6))
    pos, names = random_mixture(600, side, 0)
    with pytest.warns(DensityWarning, match="below the training density"):
        clf.check(window(Frame.from_arrays(pos, names, box=[side, side]), 6.0, (0.0, 0.0)))


def test_unknown_model_lists_the_shipped_ones():
    with pytest.raises(InputError, match="ka2d-cnn, ka2d-cnn-paper, ka2d-dmpnn, ka2d-dmpnn-paper"):
        Classifier("ka2d-transformer")


# -- the MDAnalysis faces ----------------------------------------------------
@pytest.mark.parametrize("backend", ["multiprocessing", "dask"])
def test_glass_classifier_backends_agree(dmpnn_path, u, backend):
    serial = GlassClassifier(u.atoms, model=dmpnn_path, batch_size=3).run(step=4)
    other = GlassClassifier(u.atoms, model=dmpnn_path, batch_size=3).run(step=4, backend=backend, n_workers=2)
    assert np.array_equal(serial.results.probability, other.results.probability)
    assert np.array_equal(serial.results.frames, [0, 4, 8, 12, 16, 20])
    direct = Classifier(dmpnn_path).probabilities([Frame.from_atomgroup(u.atoms) for _ in u.trajectory[::4]])
    np.testing.assert_allclose(serial.results.probability, direct, atol=1e-6)


def test_workers_get_equal_shares_cut_at_whole_batches(dmpnn_path, u):
    # 100 frames in batches of 8 between 2 workers: 48 + 52 (whole batches split evenly would give 56 + 44,
    # a worker idle for an eighth of the run); every cut at a multiple of the batch size, so that each
    # backend forms the serial run's batches.
    n = len(u.trajectory)
    g = GlassClassifier(u.atoms, model=dmpnn_path, batch_size=4)
    parts = g._setup_computation_groups(2, start=0, stop=n, step=1)
    sizes = [len(p) for p in parts]
    assert sum(sizes) == n and np.array_equal(np.concatenate(parts)[:, 0], np.arange(n))  # (frame, index) rows
    assert all(s % 4 == 0 for s in sizes[:-1]) and max(sizes) - min(sizes) <= 4
    parts = g._setup_computation_groups(3, start=0, stop=2, step=1)  # fewer frames than workers
    assert np.array_equal(np.concatenate(parts)[:, 0], [0, 1])

def test_local_probability_map(dmpnn_path, u):
    res = GlassClassifier(u.atoms, model=dmpnn_path, window=20.0).run(stop=2).results
    assert res.local_probability.shape == (4320, 2)
    u.trajectory[1]
    m = Classifier(dmpnn_path).window_map(Frame.from_atomgroup(u.atoms), 20.0)
    np.testing.assert_allclose(res.local_probability[:, 1], m.local_probability, atol=1e-9)
    assert res.probability[1] == pytest.approx(m.probability)


def test_cnn_classifier(cnn_path, dmpnn_path, tmp_path):
    path = write_gsd(tmp_path / "small.gsd", [(*random_mixture(300, 60.0 / 4, s), 60.0 / 4) for s in range(2)])
    side = 60.0 / 4
    # density 300 / 225 = 1.33: outside the card's 1.2 +- 10 %, and the box is not the CNN's 60
    small = mda.Universe(path)
    with pytest.warns(DensityWarning):
        p = CNNClassifier(small.atoms, model=cnn_path).run().results.probability
    assert p.shape == (2,) and ((0 < p) & (p < 1)).all()
    with pytest.raises(InputError, match="needs a CNN"):
        CNNClassifier(small.atoms, model=dmpnn_path)
    with pytest.raises(InputError, match="whole frames"):
        GlassClassifier(small.atoms, model=cnn_path, window=side / 2)


def test_cnn_sees_frames_of_any_size_at_its_training_scale(cnn_path, example_universe):
    from mda_glassml.graphs import replicate, square_tiles, window

    clf = Classifier(cnn_path)  # trained (its card says) on boxes of side 60
    glass = Frame.from_atomgroup(example_universe.atoms)  # 4320 particles, box 60
    # a frame of the training size is seen whole; its 2 x 2 replica (box 120) as four tiles that are each
    # the same periodic configuration, so the same logit
    assert clf.cnn_tiles(glass) == [glass]
    big = replicate(glass, 2, 2)
    tiles = clf.cnn_tiles(big)
    assert len(tiles) == 4 and all(t.box.Lx == 60.0 and not t.periodic for t in tiles)
    z, z_big = clf.logits([glass])[0], clf.logits([big])[0]
    assert abs(z_big - z) < 0.05 * max(1.0, abs(z))  # open tile edges differ from the wrap by a few cut dots
    # a 30 x 30 frame is seen as its periodic 2 x 2 replica: a periodic 60 x 60 picture at the training scale
    quarter = window(glass, 30.0)  # (made periodic, its edges meet without matching: a few close pairs)
    small = Frame.from_arrays(quarter.positions, np.where(quarter.types == 0, "A", "B"), box=[30.0, 30.0])
    (seen,) = clf.cnn_tiles(small)
    assert seen.periodic and seen.box.Lx == 60.0 and seen.n_particles == 4 * small.n_particles
    with torch.inference_mode(), pytest.warns(DensityWarning, match="overlaps"):
        np.testing.assert_allclose(clf.logits([small]), clf.model(clf._collate([seen])).double().numpy(), rtol=1e-6)
    # rectangular and tilted boxes are tiled too (the renderer alone refuses them)
    rect = Frame.from_arrays(big.positions[:, :2], np.where(big.types == 0, "A", "B"), box=[120.0, 120.0])
    assert len(square_tiles(rect, 60.0)) == 4
    assert np.isfinite(clf.logits([Frame.from_arrays(glass.positions, np.where(glass.types == 0, "A", "B"),
                                                     box=[60.0, 60.0, 0.2])])).all()


def test_attention_graph_metrics(dmpnn_path, u):
    res = AttentionGraphMetrics(u.atoms, model=dmpnn_path, store_weights=True, cut=0.5).run(step=10).results
    assert len(res.edge_weights) == 3
    u.trajectory[20]
    frame = Frame.from_atomgroup(u.atoms)
    edges, weights = res.edge_index[2], res.edge_weights[2]
    assert abs(weights.sum() - 1) < 1e-5
    direct = attention_graph(edges, weights, frame.types, cut=0.5)
    assert res.n_components[2] == direct.n_components and res.n_bb_edges[2] == direct.n_bb_edges
    assert res.n_components.dtype == res.n_bb_edges.dtype == np.int64  # counts, as BNeighborMetrics gives them
    assert res.bb_edges_per_particle.dtype == np.float64
    par = AttentionGraphMetrics(u.atoms, model=dmpnn_path, cut=0.5).run(step=10, backend="multiprocessing",
                                                                         n_workers=2).results
    assert np.array_equal(par.n_components, res.n_components)


def test_faces_refuse_unknown_types(dmpnn_path, u):
    with pytest.raises(InputError, match="'A', 'B'"):
        GlassClassifier(u.atoms, model=dmpnn_path, a_type="1", b_type="2")


# -- the command line --------------------------------------------------------
def test_classify_command(dmpnn_path, tmp_path, capsys):
    out, plot = tmp_path / "c.csv", tmp_path / "c.png"
    assert main(["classify", "--model", dmpnn_path, "--step", "5", "--out", str(out), "--plot", str(plot)]) == 0
    captured = capsys.readouterr()
    err = captured.err
    assert "bundled example" in err
    # the run logs its temperature: where the model's P(glass) crosses 0.5 is said (or that it never does)
    assert re.search(r"P\(glass\) (crosses 0.5 at T = \d|stays)", captured.out)
    rows = list(csv.DictReader(open(out)))
    assert [int(r["frame"]) for r in rows] == [0, 5, 10, 15, 20]
    assert set(rows[0]) >= {"temperature", "p_glass", "n_components", "n_bb_edges", "n_isolated_a"}
    assert plot.stat().st_size > 5000
    import os

    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not the private mode of a temporary file


@pytest.mark.parametrize("argv, message", [
    (["--model", "nonsense"], "ka2d-cnn, ka2d-cnn-paper, ka2d-dmpnn, ka2d-dmpnn-paper"),
    (["--a-type", "1", "--b-type", "2"], "'A', 'B'"),
    (["--out", "/nonexistent/dir/x.csv"], "does not exist"),
])
def test_classify_errors(argv, message, dmpnn_path, capsys):
    argv = argv if "--model" in argv else [*argv, "--model", dmpnn_path]
    assert main(["classify", "--quiet", *argv]) == 2
    assert message in capsys.readouterr().err


def test_classify_refuses_3d(dmpnn_path, tmp_path, capsys):
    import gsd.hoomd

    f = gsd.hoomd.Frame()
    f.configuration.dimensions = 3
    f.configuration.box = [10, 10, 10, 0, 0, 0]
    f.particles.N = 50
    f.particles.types = ["A", "B"]
    f.particles.typeid = np.repeat([0, 1], 25).astype(np.uint32)
    f.particles.position = np.random.default_rng(0).uniform(-5, 5, (50, 3)).astype(np.float32)
    with gsd.hoomd.open(str(tmp_path / "3d.gsd"), "w") as traj:
        traj.append(f)
    assert main(["classify", str(tmp_path / "3d.gsd"), "--model", dmpnn_path, "--quiet"]) == 2
    assert "2D" in capsys.readouterr().err


def test_crossing_temperature_of_noisy_runs_and_bad_input():
    from mda_glassml.classify import crossing_temperature

    rng = np.random.default_rng(0)
    t = np.tile(np.linspace(0.05, 2.0, 25), 4)
    p = np.clip(1 / (1 + np.exp((t - 0.41) / 0.04)) + rng.normal(0, 0.05, t.size), 0, 1)
    c = crossing_temperature(t, p)
    assert abs(c.temperature - 0.41) < 0.02 and c.reason is None
    # another level: where P(glass) = 0.9 lies on the cold side
    assert crossing_temperature(t, p, level=0.9).temperature < c.temperature
    assert "at or above" in crossing_temperature(t, np.ones_like(t)).reason
    for args, message in (((t, p[:-1]), "same length"), (([0.1, 0.2], [0.1, 0.9]), "3 or more"),
                          ((t, p * np.nan), "finite")):
        with pytest.raises(InputError, match=message):
            crossing_temperature(*args)
    with pytest.raises(InputError, match="strictly between"):
        crossing_temperature(t, p, level=1.0)


def test_inherent_classifies_the_minimised_frame(dmpnn_path, tmp_path):
    from mda_glassml.simulation.lammps import lammps_available

    if not lammps_available():
        pytest.skip("LAMMPS is not installed")
    import gsd.hoomd

    from mda_glassml.simulation import CoolingProtocol, run_cooling
    from mda_glassml.simulation.inherent import inherent_frames

    run = run_cooling(CoolingProtocol(n_particles=200, n_steps=1000, n_records=1, seed=3),
                      tmp_path / "c.gsd", progress=False)
    with gsd.hoomd.open(run.out_path) as traj:
        frame = Frame.from_gsd(traj[-1])
    minimised = inherent_frames([frame])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 200-particle frame is far smaller than the card's training box
        via_option = Classifier(dmpnn_path, inherent="lammps").logits([frame])
        direct = Classifier(dmpnn_path).logits(minimised)
        thermal = Classifier(dmpnn_path).logits([frame])
    np.testing.assert_allclose(via_option, direct, rtol=1e-6)
    assert abs(thermal[0] - direct[0]) > 1e-4  # the minimisation changed what the model saw
    with pytest.raises(InputError, match="unknown engine"):
        Classifier(dmpnn_path, inherent="gromacs")
    # overlapping particles: the engine's failure becomes the reason, not a traceback from LAMMPS
    with pytest.raises(InputError, match="could not be minimised.*closer than 0.5"):
        inherent_frames([small_frame(3, n=200)])
    # a Universe is not a list of frames: say how to make one, not "object of type 'Universe' has no len()"
    with pytest.raises(InputError, match=r"takes a list of mda_glassml Frames, got Universe.*from_atomgroup"):
        inherent_frames(mda.Universe(run.out_path))
    assert len(inherent_frames(frame)[0]) == 1  # one Frame alone is a list of one


def test_temperature_far_outside_training_warns_once(dmpnn_path, tmp_path):
    side = float(np.sqrt(300 / 1.2))
    frames = [(*random_mixture(300, side, s), side) for s in range(3)]
    path = write_gsd(tmp_path / "hot.gsd", frames, temperatures=[1.0, 6.0, 7.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GlassClassifier(mda.Universe(path).atoms, model=dmpnn_path).run()
    hot = [str(w.message) for w in caught if "temperature" in str(w.message)]
    assert len(hot) == 1 and "frame 1: temperature 6" in hot[0] and "0.05 to 2" in hot[0]


# -- one calibration per view -------------------------------------------------
@pytest.fixture(scope="module")
def two_views():
    """The bundled run's last thermal frame (T = 0.05) and its inherent structure."""
    import gsd.hoomd

    from mda_glassml.data import EXAMPLE_INHERENT_STRUCTURES

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as thermal, gsd.hoomd.open(EXAMPLE_INHERENT_STRUCTURES) as minimised:
        return Frame.from_gsd(thermal[-1]), Frame.from_gsd(minimised[-1])


def views_model(tmp_path):
    """A small D-MPNN whose card has a calibration per view (thermal: 0.5, 1.0; inherent: 2.0, -3.0;
    pooled: 1.5, 0.5): the bundle's path, the model and its featuriser."""
    torch.manual_seed(1)
    feat = Featurizer(k=2, n_rbf=8)
    model = DMPNN(feat.node_dim, feat.edge_dim, hidden=16, depth=2, readout="mean")
    torch.nn.init.normal_(model.ffn[-1].weight, std=0.5)
    views = {"thermal": {"temperature": 0.5, "bias": 1.0}, "inherent": {"temperature": 2.0, "bias": -3.0}}
    path = tmp_path / "views.pt"
    save_bundle(path, model, feat, card={**CARD, "calibration": {"temperature": 1.5, "bias": 0.5, "views": views}})
    return path, model, feat


def test_each_view_gets_its_own_calibration(tmp_path, two_views):
    thermal, inherent = two_views
    path, model, feat = views_model(tmp_path)
    clf = Classifier(str(path))
    z = clf.logits([thermal, inherent])
    assert clf.views([thermal, inherent]).tolist() == ["thermal", "inherent"]
    expected = [1 / (1 + np.exp(-(z[0] / 0.5 + 1.0))), 1 / (1 + np.exp(-(z[1] / 2.0 - 3.0)))]
    np.testing.assert_allclose(clf.probabilities([thermal, inherent]), expected, rtol=1e-12)
    # forced views, the pooled fit for None, and the whole frame's view for its sliding windows
    assert Classifier(str(path), view="inherent").probabilities([thermal])[0] == pytest.approx(
        1 / (1 + np.exp(-(z[0] / 2.0 - 3.0))))
    assert clf.calibrated(z[:1], [None])[0] == pytest.approx(1 / (1 + np.exp(-(z[0] / 1.5 + 0.5))))
    m = clf.window_map(inherent, 20.0)
    raw = Classifier(str(path), view="inherent").window_map(inherent, 20.0)
    np.testing.assert_allclose(m.window_probability, raw.window_probability)
    assert not np.allclose(m.window_probability, Classifier(str(path), view="thermal").window_map(
        inherent, 20.0).window_probability)
    # an open window has no forces to tell its view: the pooled fit, and a warning that says what to do
    with pytest.warns(DensityWarning, match="view='thermal' or view='inherent'"):
        (p_window,) = clf.probabilities([window(thermal, 20.0, (0.0, 0.0))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z_window = clf.logits([window(thermal, 20.0, (0.0, 0.0))])[0]
    assert p_window == pytest.approx(1 / (1 + np.exp(-(z_window / 1.5 + 0.5))))
    with pytest.raises(InputError, match="view must be"):
        Classifier(str(path), view="glass")
    with pytest.raises(InputError, match="contradicts"):
        Classifier(str(path), view="thermal", inherent="lammps")
    with pytest.raises(InputError, match="unknown view"):
        clf.calibrated(z, ["thermal", "liquid"])
    # a card with one calibration (cards before views): nothing is computed, every frame gets it
    save_bundle(tmp_path / "pooled.pt", model, feat, card={**CARD, "calibration": {"temperature": 1.5, "bias": 0.5}})
    pooled = Classifier(str(tmp_path / "pooled.pt"))
    assert pooled.views([thermal]) is None
    np.testing.assert_allclose(pooled.probabilities([thermal, inherent]), 1 / (1 + np.exp(-(z / 1.5 + 0.5))))


def test_views_of_a_mixed_list_bad_views_and_the_faces_pass_view_on(tmp_path, two_views, u):
    thermal, inherent = two_views
    path, model, feat = views_model(tmp_path)
    clf = Classifier(str(path))
    open_window = window(thermal, 20.0, (0.0, 0.0))
    with pytest.warns(DensityWarning, match="open window"):  # each frame keeps its own place in the answer
        assert clf.views([thermal, open_window, inherent]).tolist() == ["thermal", None, "inherent"]
    z = np.array([0.3, -1.2, 2.0])
    for bad in (["thermal", "inherent"], [["thermal"] * 3]):  # neither one for all nor one per logit
        with pytest.raises(InputError, match="one per logit"):
            clf.calibrated(z, bad)
    np.testing.assert_allclose(clf.calibrated(z, "inherent"), 1 / (1 + np.exp(-(z / 2.0 - 3.0))))
    # a card with one calibration still refuses names that are no view, and says view= changes nothing
    save_bundle(tmp_path / "pooled.pt", model, feat, card={**CARD, "calibration": {"temperature": 1.5, "bias": 0.5}})
    pooled = Classifier(str(tmp_path / "pooled.pt"))
    with pytest.raises(InputError, match="unknown view"):
        pooled.calibrated(z, ["thermal", "glass", None])
    np.testing.assert_allclose(pooled.calibrated(z, ["thermal", "inherent", None]), 1 / (1 + np.exp(-(z / 1.5 + 0.5))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Classifier(str(tmp_path / "pooled.pt"), view="thermal")
        Classifier(str(tmp_path / "pooled.pt"))
    assert sum("changes nothing" in str(w.message) for w in caught) == 1
    # GlassClassifier(view=) reaches the classifier: the bundled run's thermal frames get the inherent fit
    steps = dict(start=0, stop=21, step=10)
    auto = GlassClassifier(u.atoms, model=str(path)).run(**steps).results.probability
    forced = GlassClassifier(u.atoms, model=str(path), view="inherent").run(**steps).results.probability
    import gsd.hoomd

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as run:
        z_run = clf.logits([Frame.from_gsd(run[k]) for k in (0, 10, 20)])
    np.testing.assert_allclose(auto, 1 / (1 + np.exp(-(z_run / 0.5 + 1.0))), rtol=1e-6)
    np.testing.assert_allclose(forced, 1 / (1 + np.exp(-(z_run / 2.0 - 3.0))), rtol=1e-6)
    # and so does the command line's --view
    rows = {}
    for view in ("auto", "inherent"):
        out = tmp_path / f"{view}.csv"
        assert main(["classify", "--model", str(path), "--step", "10", "--view", view, "--out", str(out),
                     "--quiet"]) == 0
        rows[view] = np.array([float(r["p_glass"]) for r in csv.DictReader(open(out))])
    np.testing.assert_allclose(rows["auto"], auto, rtol=1e-5)
    np.testing.assert_allclose(rows["inherent"], forced, rtol=1e-5)


def _example_frame(index=20, **types):
    import gsd.hoomd

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        return Frame.from_gsd(traj[index], frame=index, **types)


def test_swapped_types_warn_that_the_composition_is_not_the_training_one():
    clf = Classifier("ka2d-dmpnn")
    with pytest.warns(DensityWarning, match="65% of the particles are B .* are a_type and b_type swapped"):
        clf.probabilities([_example_frame(a_type="B", b_type="A")])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DensityWarning)
        Classifier("ka2d-dmpnn").probabilities([_example_frame()])


def test_windows_smaller_than_training_warn_and_a_stride_beyond_the_side_is_refused():
    clf, glass = Classifier("ka2d-dmpnn"), _example_frame()
    with pytest.warns(DensityWarning, match="side 8 are smaller than the windows .* trained and calibrated on \\(12\\)"):
        small = clf.window_map(glass, 8.0).probability
    with warnings.catch_warnings():
        warnings.simplefilter("error", DensityWarning)
        full = Classifier("ka2d-dmpnn").window_map(glass, 12.0).probability
    assert small < full  # what the warning says: less sure on smaller windows
    with pytest.raises(InputError, match="no larger than the window side 12 .* leaves particles in no window"):
        clf.window_map(glass, 12.0, stride=13.0)


def test_the_cnn_refuses_an_open_window_it_would_see_at_another_scale():
    clf, glass = Classifier("ka2d-cnn"), _example_frame()
    with pytest.raises(InputError, match="window of side 12 would be drawn 2.5 times enlarged"):
        clf.probabilities([window(glass, 12.0)])
    with pytest.warns(DensityWarning, match="open window"):  # the training side is drawn at the training scale
        assert Classifier("ka2d-cnn").probabilities([window(glass, 30.0)]).shape == (1,)


def test_classifier_inputs_are_named(tmp_path):
    clf, glass = Classifier("ka2d-dmpnn-paper"), _example_frame()
    assert clf.probabilities([]).shape == (0,)
    np.testing.assert_array_equal(clf.probabilities(glass), clf.probabilities([glass]))  # one Frame is a list of one
    with pytest.raises(InputError, match="expected Frames .* got int"):
        clf.probabilities([1, 2])
    with pytest.raises(InputError, match="frame 20 has no particles \\(an empty window\\)"):
        clf.attention(window(glass, 0.3))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.pt").write_bytes(b"")
    for model, message in ((None, "model must be a shipped model's name"), (3, "got 3"), ("", "got ''"),
                           (tmp_path / "run", "is a folder \\(it holds model.pt: give that file\\)"),
                           (tmp_path / "run" / "model.pt", "not a readable model bundle")):
        with pytest.raises(InputError, match=message):
            Classifier(model)
    for kwargs in (dict(batch_size=None), dict(batch_size=2.5), dict(density_tolerance="0.1")):
        with pytest.raises(InputError, match="must be a positive"):
            Classifier("ka2d-dmpnn-paper", **kwargs)
    from pathlib import Path

    assert Classifier(Path("ka2d-dmpnn-paper")).kind == "dmpnn"  # a shipped name as a Path


def test_the_attention_and_classifier_faces_check_cut_and_window_before_running(u):
    for kwargs, message in ((dict(cut="papr"), "unknown cut 'papr'"), (dict(window=-1.0), "window side -1.0"),
                            (dict(window=12.0, window_center=(1, 2, 3)), "window_center must be two"),
                            (dict(window=0.3), "a window of frame 0 with 0 particle\\(s\\) .* need at least 3")):
        with pytest.raises(InputError, match=f"^{message}"):
            AttentionGraphMetrics(u.atoms, **kwargs)
    with pytest.raises(InputError, match="window side must be a length, got True"):
        GlassClassifier(u.atoms, model="ka2d-dmpnn", window=True)


def test_a_model_that_barely_learnt_warns_when_loaded(tmp_path):
    feat = Featurizer(k=2)
    model = DMPNN(feat.node_dim, feat.edge_dim, hidden=8, depth=2, readout="mean")
    for auc, warns in ((0.48, True), (0.95, False)):
        path = tmp_path / f"m{auc}.pt"
        save_bundle(path, model, feat, card={"scores": {"validation_auc": auc}})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Classifier(path)
        weak = [w for w in caught if "validation AUC is 0.48 (0.5 is chance)" in str(w.message)]
        assert bool(weak) == warns


def test_attention_metrics_with_a_trough_cut_pool_every_frame(u):
    # One window's weights rarely have a trough (every window of the bundled run has one mode): the cut is
    # the trough of all analysed frames pooled, as attention_metrics_table computes it, applied to each.
    res = AttentionGraphMetrics(u.atoms, model="ka2d-dmpnn-paper", window=12.0, cut="trough").run(step=10).results
    graphs = list(zip(res.edge_index, res.edge_weights, res.types))
    assert len(graphs) == 3
    with pytest.raises(InputError, match="single mode"):
        attention_graph(*graphs[0], cut="trough")
    table = attention_metrics_table(graphs, cut="trough")
    assert res.cut == table["cut"][0] == pytest.approx(trough_cut([rescale_weights(w) for _, w, _ in graphs]))
    for key in ("n_components", "n_bb_edges", "n_isolated_a", "isolated_b_per_particle", "fraction_high"):
        np.testing.assert_array_equal(res[key], table[key])
    assert res.fraction_high[0] < 0.05 < 0.95 < res.fraction_high[-1]  # T = 2 liquid: one pair; the glass: all
    par = AttentionGraphMetrics(u.atoms, model="ka2d-dmpnn-paper", window=12.0, cut="trough").run(
        step=10, backend="multiprocessing", n_workers=2).results
    assert par.cut == res.cut and np.array_equal(par.n_isolated_a, res.n_isolated_a)
    # No trough even pooled (the shipped ka2d-dmpnn's weights): the error says where the weights are, and no
    # zeros are left that would pass for counts.
    failed = AttentionGraphMetrics(u.atoms, model="ka2d-dmpnn", window=12.0, cut="trough")
    with pytest.raises(InputError, match="results.edge_weights"):
        failed.run(step=10)
    assert "n_components" not in failed.results and len(failed.results.edge_weights) == 3


def test_attention_refuses_what_it_cannot_read(u):
    frame = Frame.from_atomgroup(u.atoms)
    clf = Classifier("ka2d-dmpnn-paper")
    for bad in ([frame], u.atoms, None):
        with pytest.raises(InputError, match="attention takes one Frame"):
            clf.attention(bad)
    # inherent= minimises before probabilities and window maps; attention would silently read the thermal frame
    with pytest.raises(InputError, match="inherent structure itself"):
        Classifier("ka2d-dmpnn-paper", inherent="lammps").attention(frame)


def test_attention_metrics_refuse_a_depth_one_model(tmp_path, u):
    feat = Featurizer(k=2, n_rbf=8)
    path = tmp_path / "d1.pt"
    save_bundle(path, DMPNN(feat.node_dim, feat.edge_dim, hidden=8, depth=1), feat, card=CARD)
    with pytest.raises(InputError, match="depth 1"):
        AttentionGraphMetrics(u.atoms, model=str(path))


def test_temperature_checks_name_the_cold_and_the_hot_side(dmpnn_path):
    import warnings

    clf = Classifier(dmpnn_path)
    with pytest.warns(DensityWarning, match="frame 0: temperature 0.01 is far outside"):
        clf.check_temperature(0.01, "frame 0")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DensityWarning)
        clf.check_temperature(0.001, "frame 1")  # the cold side was said
    with pytest.warns(DensityWarning, match="frame 3: temperature 5 is far outside"):
        clf.check_temperature(5.0, "frame 3")  # the hot side is news


def test_warnings_of_worker_processes_reach_the_caller_as_in_a_serial_run(dmpnn_path, tmp_path):
    # A trajectory 1.5-1.8 % denser than training, each frame a little different: one 2 % band, so a serial run
    # warns once. Workers warned for their first frame each, on their own stderr (forked: nowhere), out of reach
    # of the caller's filters; now their warnings come back and go through the caller's classifier: once.
    import MDAnalysis as mda

    from conftest import write_gsd

    frame = Frame.from_atomgroup(mda.Universe(EXAMPLE_TRAJECTORY).atoms)
    names = np.where(frame.types == 0, "A", "B")
    frames = []
    for drho in np.linspace(0.015, 0.018, 16):
        s = (1 + drho) ** -0.5
        side = frame.box.Lx * s
        frames.append((np.mod(frame.positions * s, side), names, side))
    path = tmp_path / "dense.gsd"
    write_gsd(path, frames)
    u = mda.Universe(str(path))
    counts = {}
    for backend in ("serial", "multiprocessing", "dask"):
        kw = {} if backend == "serial" else {"backend": backend, "n_workers": 2}
        with pytest.warns(DensityWarning) as record:
            clf = GlassClassifier(u.atoms, model=dmpnn_path)
            clf.run(**kw)
        density = [w for w in record if "training density" in str(w.message)]
        counts[backend] = len(density)
        assert str(density[0].message).startswith("frame 0: number density")
        assert {w.filename for w in density} == {__file__}  # the caller's line, not a worker's
        assert "relayed_warnings" not in clf.results
    assert counts == {"serial": 1, "multiprocessing": 1, "dask": 1}


def test_the_cnn_warns_on_frames_smaller_than_its_training_boxes():
    import warnings

    clf = Classifier("ka2d-cnn")  # trained on boxes of side 30
    side = float(np.sqrt(300 / 1.2))  # 15.8: a tile of side 30 is about 1.9 copies of it a side
    pos, names = random_mixture(300, side, 0)
    with pytest.warns(DensityWarning, match=r"smaller than the CNN's training boxes .* 1\.9 copies a side"):
        clf.cnn_tiles(Frame.from_arrays(pos, names, box=[side, side]))
    side = 30.0
    pos, names = random_mixture(1080, side, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DensityWarning)
        clf.cnn_tiles(Frame.from_arrays(pos, names, box=[side, side]))
