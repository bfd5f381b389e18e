"""Frame construction and every kind of bad input it must refuse clearly."""

import freud
import gsd.hoomd
import MDAnalysis as mda
import numpy as np
import pytest

from mda_glassml.errors import InputError
from mda_glassml.frames import AtomGroupFrames, Frame, check_k, make_box


def test_from_arrays_wraps_into_box_and_codes_types():
    f = Frame.from_arrays([[1, 1], [59, 1], [30, 45]], ["A", "B", "A"], box=[60, 60])
    assert f.positions.dtype == np.float32 and f.positions.shape == (3, 2)
    assert np.all(f.positions >= -30) and np.all(f.positions < 30)
    # Wrapping keeps positions modulo the box: 59 is -1.
    np.testing.assert_allclose(f.positions[1], [-1, 1])
    assert f.types.tolist() == [0, 1, 0]
    assert (f.n_a, f.n_b, f.area) == (2, 1, 3600.0)


def test_numeric_lammps_types_work_when_named():
    f = Frame.from_arrays([[0, 0], [1, 1]], [1, 2], [10, 10], a_type=1, b_type="2")
    assert f.types.tolist() == [0, 1]
    assert f.type_names == ("1", "2")


def test_planar_3d_input_with_constant_z_is_2d():
    f = Frame.from_arrays([[0, 0, 0.5], [1, 1, 0.5]], ["A", "B"], [10, 10, 1.0])
    assert f.positions.shape == (2, 2)


@pytest.mark.parametrize(
    "dims, expected",
    [
        ([10, 8, 0, 90, 90, 90], (10, 8, 0.0)),
        ([10, 8, 1, 90, 90, 60], (10, 8 * np.sin(np.pi / 3), 8 * np.cos(np.pi / 3) / (8 * np.sin(np.pi / 3)))),
        ({"hoomd": [10, 8, 0, 0.25, 0, 0]}, (10, 8, 0.25)),
        ([10, 8], (10, 8, 0.0)),
    ],
)
def test_make_box_reads_the_usual_layouts(dims, expected):
    box = make_box(dims)
    assert box.is2D
    np.testing.assert_allclose([box.Lx, box.Ly, box.xy], expected, rtol=1e-6)


def test_from_gsd_and_from_atomgroup_agree(random_gsd):
    u = mda.Universe(random_gsd)
    with gsd.hoomd.open(random_gsd) as traj:
        g = Frame.from_gsd(traj[3], frame=3)
    u.trajectory[3]
    m = Frame.from_atomgroup(u.atoms)
    assert m.index == g.index == 3
    np.testing.assert_array_equal(m.types, g.types)
    np.testing.assert_allclose(m.positions, g.positions, atol=1e-5)


def test_a_tilted_gsd_box_read_by_mdanalysis_is_the_hoomd_box(tmp_path):
    # MDAnalysis' GSD reader writes tilt factors as if they were cosines, into alpha, beta, gamma, and keeps
    # HOOMD-blue's coordinates (centred on 0): the frame must still get HOOMD-blue's box and centre.
    from mda_glassml.metrics import b_neighbor_metrics

    rng = np.random.default_rng(4)
    snap = gsd.hoomd.Frame()
    snap.configuration.box, snap.configuration.dimensions = [20, 15, 0, 0.4, 0, 0], 2
    snap.particles.N, snap.particles.types = 360, ["A", "B"]
    snap.particles.typeid = (rng.random(360) < 0.35).astype(np.uint32)
    xyz = np.zeros((360, 3), np.float32)
    xyz[:, :2] = rng.uniform(-0.5, 0.5, (360, 2)) * [20, 15]
    snap.particles.position = xyz
    path = tmp_path / "tilted.gsd"
    with gsd.hoomd.open(str(path), "w") as traj:
        traj.append(snap)
    direct = Frame.from_gsd(snap, frame=0)
    via = Frame.from_atomgroup(mda.Universe(str(path)).atoms)
    assert (via.box.Lx, via.box.Ly) == (20, 15) and via.box.xy == pytest.approx(0.4, abs=1e-6)
    assert via.box_center == direct.box_center == (0.0, 0.0)
    windowed = [b_neighbor_metrics(f, k=3, window=8.0) for f in (direct, via)]
    assert windowed[0].n_bb_edges == windowed[1].n_bb_edges


def test_an_out_of_plane_tilt_is_refused():
    with pytest.raises(InputError, match="alpha=78.5, beta=90 .*both must be 90"):
        make_box([60, 60, 0, 78.5, 90, 90])


def test_atomgroup_frames_follow_the_trajectory(random_gsd):
    u = mda.Universe(random_gsd)
    frames = AtomGroupFrames(u.atoms)
    seen = [frames() for ts in u.trajectory[::3]]
    assert [f.index for f in seen] == [0, 3, 6]
    assert not np.allclose(seen[0].positions, seen[1].positions)


# ---- bad input: each gets a clear error -------------------------------------------------


def test_3d_data_is_refused_with_a_2d_only_message():
    with pytest.raises(InputError, match="only 2D"):
        Frame.from_arrays([[0, 0, 0], [1, 1, 3]], ["A", "B"], [10, 10, 10])


def test_3d_universe_is_refused(tmp_path):
    u = mda.Universe.empty(3, trajectory=True, atom_resindex=[0, 0, 0])
    u.add_TopologyAttr("types", ["A", "B", "A"])
    u.atoms.positions = [[0, 0, 0], [1, 1, 1], [2, 2, 4]]
    u.dimensions = [10, 10, 10, 90, 90, 90]
    with pytest.raises(InputError, match="3D"):
        Frame.from_atomgroup(u.atoms)


@pytest.mark.parametrize("box", [[0, 10], [10, -1], [np.nan, 10], [10, 10, 0, 90, 90, 0], [1, 2, 3, 4]])
def test_bad_boxes_are_refused(box):
    with pytest.raises(InputError, match="box"):
        Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], box)


def test_missing_box_is_refused():
    with pytest.raises(InputError, match="no simulation box"):
        Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], None)


def test_missing_dimensions_in_a_universe_are_refused():
    u = mda.Universe.empty(2, trajectory=True, atom_resindex=[0, 0])
    u.add_TopologyAttr("types", ["A", "B"])
    u.atoms.positions = [[0, 0, 0], [1, 1, 0]]
    with pytest.raises(InputError, match="no simulation box"):
        Frame.from_atomgroup(u.atoms)


def test_absent_type_lists_the_present_ones():
    with pytest.raises(InputError, match=r"'X' not present.*'A', 'B'"):
        Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], [10, 10], a_type="X")


def test_no_b_particles_is_refused():
    with pytest.raises(InputError, match=r"none of type 'B'"):
        Frame.from_arrays([[0, 0], [1, 1]], ["A", "A"], [10, 10])


def test_third_type_is_refused_with_a_selection_hint():
    with pytest.raises(InputError, match=r"'C'.*select_atoms"):
        Frame.from_arrays([[0, 0], [1, 1], [2, 2]], ["A", "B", "C"], [10, 10])


def test_same_name_for_both_types_is_refused():
    with pytest.raises(InputError, match="different"):
        Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], [10, 10], a_type="A", b_type="A")


def test_empty_atomgroup_is_refused(random_gsd):
    u = mda.Universe(random_gsd)
    with pytest.raises(InputError, match="empty"):
        AtomGroupFrames(u.atoms[[]])


def test_empty_arrays_are_refused():
    with pytest.raises(InputError, match="no particles"):
        Frame.from_arrays(np.zeros((0, 2)), [], [10, 10])


def test_nan_coordinates_name_the_frame():
    with pytest.raises(InputError, match="NaN.*frame 7"):
        Frame.from_arrays([[0, 0], [np.nan, 1]], ["A", "B"], [10, 10], frame=7)


def test_nan_in_a_trajectory_names_the_frame(random_gsd):
    u = mda.Universe(random_gsd)
    frames = AtomGroupFrames(u.atoms)
    u.trajectory[5]
    pos = u.atoms.positions
    pos[2, 0] = np.inf
    u.atoms.positions = pos
    with pytest.raises(InputError, match="frame 5"):
        frames()


def test_wrong_shapes_are_refused():
    with pytest.raises(InputError, match=r"shape \(N, 2\) or \(N, 3\)"):
        Frame.from_arrays([0, 1, 2], ["A", "B", "A"], [10, 10])
    with pytest.raises(InputError, match="2 types for 3 particles|types"):
        Frame.from_arrays([[0, 0], [1, 1], [2, 2]], ["A", "B"], [10, 10])


@pytest.mark.parametrize("k", [0, -1, 5, 6, 2.0, True, "2"])
def test_bad_k_is_refused(k):
    with pytest.raises(InputError, match="k"):
        check_k(k, 5)


def test_frames_are_plain_values():
    f = Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], freud.Box.square(10))
    assert f.box.Lx == 10 and f.periodic



def test_3d_gsd_frame_is_refused():
    import gsd.hoomd

    f = gsd.hoomd.Frame()
    f.particles.N = 3
    f.particles.types = ["A", "B"]
    f.particles.typeid = [0, 1, 0]
    f.particles.position = [[0, 0, 0], [1, 1, 1], [2, 2, -1]]
    f.configuration.box = [10, 10, 10, 0, 0, 0]
    f.configuration.dimensions = 3
    with pytest.raises(InputError, match="only 2D"):
        Frame.from_gsd(f, frame=0)


def test_unwrapped_coordinates_far_out_keep_their_digits():
    # LAMMPS xu yu of a long run: 10^4 boxes out, float32 before wrapping lost 0.06.
    rng = np.random.default_rng(2)
    inside = Frame.from_arrays(rng.uniform(-5, 5, (200, 2)), ["A", "B"] * 100, [10, 8])
    far = inside.positions.astype(np.float64) + [10 * 10_000, 8 * -3_000]
    np.testing.assert_allclose(Frame.from_arrays(far, ["A", "B"] * 100, [10, 8]).positions, inside.positions,
                               atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(box={"Lx": 4, "Ly": 4}), "a box given as a dict must be {'hoomd'"),
    (dict(box={"hoomd": [4]}), "a HOOMD-blue box is .* got 1 numbers"),
    (dict(box="4 4"), "cannot read a box from '4 4'"),
    (dict(positions=[[0, 0], [1]]), "positions must be an \\(N, 2\\) or \\(N, 3\\) array of numbers"),
    (dict(positions=[["a", "b"], [1, 1]]), "array of numbers; numpy says: could not convert"),
    (dict(box_center="ab"), "box_center must be two numbers"),
    (dict(positions=np.array([[1 + 1j, 0], [1, 1]])), "positions must be real numbers, got complex"),
    (dict(box_center=(1, 2, 3)), "box_center must be two numbers"),
])
def test_odd_arrays_boxes_and_centres_are_named(kwargs, message):
    args = dict(positions=[[0, 0], [1, 1]], box=[4, 4], box_center=None) | kwargs
    with pytest.raises(InputError, match=message):
        Frame.from_arrays(args["positions"], ["A", "B"], args["box"], box_center=args["box_center"])


def test_from_gsd_wants_a_frame_and_a_universe_serves_as_its_atoms(random_gsd):
    with pytest.raises(InputError, match="from_gsd takes one frame .* got str: with gsd.hoomd.open"):
        Frame.from_gsd(random_gsd)
    with gsd.hoomd.open(random_gsd) as traj:
        snap = traj[0]
    snap.particles.typeid[0] = 7
    with pytest.raises(InputError, match="type ids up to 7 but only 2 type names"):
        Frame.from_gsd(snap)
    u = mda.Universe(random_gsd)
    assert Frame.from_atomgroup(u).n_particles == Frame.from_atomgroup(u.atoms).n_particles == 300
    with pytest.raises(InputError, match="expected an MDAnalysis AtomGroup .* got list"):
        AtomGroupFrames([1, 2])


def test_chained_and_in_memory_gsd_get_the_hoomd_box_too(tmp_path):
    snap = gsd.hoomd.Frame()
    snap.configuration.box, snap.configuration.dimensions = [20, 16, 0, 0.3, 0, 0], 2
    snap.particles.N, snap.particles.types = 2, ["A", "B"]
    snap.particles.typeid = [0, 1]
    snap.particles.position = np.array([[1, 2, 0], [-3, 4, 0]], np.float32)
    paths = [str(tmp_path / f"{i}.gsd") for i in range(2)]
    for path in paths:
        with gsd.hoomd.open(path, "w") as traj:
            traj.append(snap)
    expected = Frame.from_gsd(snap)
    chained = mda.Universe(paths[0], paths)
    memory = mda.Universe(paths[0])
    memory.transfer_to_memory()
    for u in (chained, memory):
        f = Frame.from_atomgroup(u.atoms)
        assert f.box_center == (0.0, 0.0) and f.box.xy == pytest.approx(0.3, abs=1e-6)
        np.testing.assert_allclose(f.positions, expected.positions, atol=1e-5)


def test_an_updating_selection_is_refused_not_frozen():
    from mda_glassml.data import EXAMPLE_TRAJECTORY

    u = mda.Universe(EXAMPLE_TRAJECTORY)
    with pytest.raises(InputError, match="an updating selection changes its particles"):
        AtomGroupFrames(u.select_atoms("prop x < 0", updating=True))


@pytest.mark.parametrize("kwargs, message", [
    (dict(a_type=None), "a_type must be a type name .* got None"),
    (dict(b_type=2.0), "b_type must be a type name .* got 2.0"),
    (dict(frame="x"), "frame must be the frame's index .* got 'x'"),
])
def test_type_names_and_frame_index_must_be_what_they_say(kwargs, message):
    with pytest.raises(InputError, match=message):
        Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], [4, 4], **kwargs)


def test_a_universe_without_coordinates_is_named():
    from mda_glassml.analysis import BNeighborMetrics

    u = mda.Universe.empty(3, atom_resindex=[0, 0, 0])
    u.add_TopologyAttr("types", ["A", "B", "A"])
    for make in (AtomGroupFrames, BNeighborMetrics):
        with pytest.raises(InputError, match="the Universe has no coordinates"):
            make(u.atoms)


def test_a_one_component_frame_is_named_as_such():
    pos = np.random.default_rng(0).random((100, 2)) * 9
    with pytest.raises(InputError, match="every particle is of type 'A' and none of type 'B': this frame is a "
                                         "one-component system"):
        Frame.from_arrays(pos, ["A"] * 100, box=[9, 9])
    with pytest.raises(InputError, match="not present; the types present are '1', '2'"):  # a naming slip still is
        Frame.from_arrays(pos, ["1", "2"] * 50, box=[9, 9])


def test_package_warnings_point_at_the_callers_line():
    # attributed to the first caller outside the package (here: this file), not to a line deep inside it
    from mda_glassml.errors import GlassMLWarning
    from mda_glassml.frames import DensityWarning

    side = float(np.sqrt(300 / 0.6))
    rng = np.random.default_rng(0)
    frame = Frame.from_arrays(rng.random((300, 2)) * side, np.where(rng.random(300) < 0.35, "B", "A"), [side, side])
    from mda_glassml.classify import Classifier

    with pytest.warns(DensityWarning) as record:
        Classifier("ka2d-dmpnn").probabilities([frame])
    assert issubclass(DensityWarning, GlassMLWarning) and issubclass(GlassMLWarning, UserWarning)
    assert {w.filename for w in record} == {__file__}
