"""The Kob–Andersen potential of a frame: forces against an all-pairs float64 reference, inherent structures told
from thermal frames."""

import gsd.hoomd
import numpy as np
import pytest

from mda_glassml.data import EXAMPLE_INHERENT_STRUCTURES, EXAMPLE_TRAJECTORY
from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.graphs import window
from mda_glassml.potential import INHERENT_RMS_FORCE, SAMPLE, forces, is_inherent_structure, rms_force, views
from mda_glassml.simulation.protocol import CoolingProtocol
from reference import ka_force_norm


def test_forces_match_the_all_pairs_reference_and_sum_to_zero():
    protocol = CoolingProtocol(n_particles=300, density=1.2)
    side = protocol.box_length
    rng = np.random.default_rng(0)
    # a jittered lattice: no overlaps, forces of order 10-100
    grid = (np.stack(np.meshgrid(np.arange(15), np.arange(20)), -1).reshape(-1, 2) + 0.5) * [side / 15, side / 20]
    pos = grid + rng.normal(0, 0.05, grid.shape) - side / 2
    types = np.array(["A"] * 195 + ["B"] * 105)
    rng.shuffle(types)
    frame = Frame.from_arrays(pos, types, box=[side, side])
    f = forces(frame)
    typeid = (types == "B").astype(int)
    reference = ka_force_norm(np.c_[frame.positions, np.zeros(300)], typeid, protocol)  # the frame keeps float32
    assert np.linalg.norm(f) == pytest.approx(reference, rel=1e-7)  # the box side, too, is stored in float32
    np.testing.assert_allclose(f.sum(axis=0), 0.0, atol=1e-9 * np.abs(f).max())  # Newton's third law
    assert rms_force(frame) == pytest.approx(np.linalg.norm(f) / np.sqrt(300), rel=1e-12)


def test_inherent_structures_are_told_from_thermal_frames():
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as thermal, gsd.hoomd.open(EXAMPLE_INHERENT_STRUCTURES) as minimised:
        hot = [rms_force(Frame.from_gsd(thermal[k])) for k in (0, len(thermal) - 1)]  # T = 2 and T = 0.05
        cold = [rms_force(Frame.from_gsd(minimised[k])) for k in (0, len(minimised) - 1)]
        last = Frame.from_gsd(minimised[len(minimised) - 1])
    assert min(hot) > 20 * INHERENT_RMS_FORCE and max(cold) < INHERENT_RMS_FORCE / 20, (hot, cold)
    assert is_inherent_structure(last) and not is_inherent_structure(last, tol=max(cold) / 2)
    with pytest.raises(InputError, match="periodic box"):
        forces(window(last, 10.0, (0.0, 0.0)))


def test_a_close_pair_repels_and_a_far_pair_attracts():
    for gap, sign in ((1.0, 1.0), (1.5, -1.0)):  # A-A: the LJ minimum is at 2^(1/6) = 1.12
        # a B far from both (beyond every cutoff) so that the frame has both types
        frame = Frame.from_arrays([[0.0, 0.0], [gap, 0.0], [-4.0, 4.0]], ["A", "A", "B"], box=[12.0, 12.0])
        f = forces(frame)
        assert np.sign(f[0, 0]) == -sign and np.sign(f[1, 0]) == sign and f[0, 1] == 0.0 and not f[2].any()
        r = float(frame.positions[1, 0]) - float(frame.positions[0, 0])  # the frame keeps float32 positions
        x = (1.0 / r) ** 6
        assert abs(f[1, 0]) == pytest.approx(abs(24 * (2 * x * x - x) / r), rel=1e-9)


def test_forces_on_some_particles_are_those_rows_and_a_sample_tells_the_view():
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as thermal, gsd.hoomd.open(EXAMPLE_INHERENT_STRUCTURES) as minimised:
        frames = [Frame.from_gsd(thermal[k]) for k in (0, len(thermal) - 1)]
        frames += [Frame.from_gsd(minimised[k]) for k in (0, len(minimised) - 1)]
    some = np.array([4000, 3, 17, 3])  # any order, repeats allowed
    np.testing.assert_array_equal(forces(frames[1], some), forces(frames[1])[some])
    assert views(frames).tolist() == ["thermal", "thermal", "inherent", "inherent"]
    assert views(frames, sample=None).tolist() == views(frames).tolist()
    for f in frames:  # the default sample's rms force is near every particle's, far from the threshold
        sample = np.linspace(0, f.n_particles - 1, SAMPLE).astype(np.int64)
        assert rms_force(f, sample) == pytest.approx(rms_force(f), rel=0.25)
    for bad, message in (([], "non-empty"), ([0.5], "indices"), ([4320], "0..4319"), ([-1], "0..4319")):
        with pytest.raises(InputError, match=message):
            forces(frames[0], bad)


def test_is_inherent_structure_refuses_a_bad_sample():
    with gsd.hoomd.open(EXAMPLE_INHERENT_STRUCTURES) as minimised:
        frame = Frame.from_gsd(minimised[0])
    assert is_inherent_structure(frame, sample=10**6) and is_inherent_structure(frame, sample=np.int64(64))
    for bad in (0, -5, 2.5, True, "512"):
        with pytest.raises(InputError, match="positive number of particles"):
            is_inherent_structure(frame, sample=bad)


def test_a_box_too_small_for_the_cutoff_is_refused_and_classify_says_how_to_skip_the_force_check():
    from mda_glassml.classify import Classifier

    rng = np.random.default_rng(1)
    # Tilted: 6 wide along y, but its x sides are 6 / 1.25 = 4.8 apart, less than twice the cutoff 2.5.
    small = Frame.from_arrays(rng.uniform(0, 6, (40, 2)), ["A", "B"] * 20, {"hoomd": [6, 6, 0, 0.75, 0, 0]}, frame=3)
    with pytest.raises(InputError, match="box of frame 3 is too small .* more than 5 wide .* this one is 4.8"):
        forces(small)
    classifier = Classifier("ka2d-dmpnn")
    with pytest.raises(InputError, match="too small .* pass view='thermal' or view='inherent'"):
        classifier.views([small])
    assert classifier.views([Frame.from_arrays(rng.uniform(0, 6, (40, 2)), ["A", "B"] * 20, [6, 6])]).tolist() \
        in (["thermal"], ["inherent"])


def test_coincident_particles_give_nan_without_numpy_warnings():
    import warnings

    from mda_glassml.potential import potential_energy

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        snap = traj[20]
    snap.particles.position[1] = snap.particles.position[0]
    frame = Frame.from_gsd(snap)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        f = forces(frame)
        energy = potential_energy(frame)
        assert not is_inherent_structure(frame, sample=None)
    assert np.isnan(f[:2]).all() and np.isfinite(f[2:]).all() and np.isnan(energy)
