"""The LAMMPS engine: a tiny real cooling run (skipped when LAMMPS is not installed)."""

import os

import numpy as np
import pytest
from scipy.spatial import cKDTree

from mda_glassml.simulation.protocol import CoolingProtocol

lammps_engine = pytest.importorskip("mda_glassml.simulation.lammps")
if not lammps_engine.lammps_available():
    pytest.skip('LAMMPS cannot be loaded (pip install "mda-glassml[lammps]")', allow_module_level=True)

gsd_hoomd = pytest.importorskip("gsd.hoomd")

PROTOCOL = CoolingProtocol(n_particles=200, n_steps=2000, n_records=5, seed=7)


def lj_energy_per_particle(protocol, xyz, typeid, shifted=False):
    """Independent numpy evaluation of the truncated KA energy (periodic)."""
    model, length = protocol.model, protocol.box_length
    xy = np.mod(np.asarray(xyz, dtype=np.float64)[:, :2] + length / 2, length)
    xy[xy >= length] = 0.0
    pairs = cKDTree(xy, boxsize=length).query_pairs(model.max_cutoff(), output_type="ndarray")
    d = xy[pairs[:, 0]] - xy[pairs[:, 1]]
    d -= length * np.round(d / length)
    r = np.hypot(d[:, 0], d[:, 1])
    t = np.sort(typeid[pairs], axis=1)
    total = 0.0
    for (ta, tb), names in (((0, 0), ("A", "A")), ((0, 1), ("A", "B")), ((1, 1), ("B", "B"))):
        eps, sigma, rc = model.pair(*names)
        sel = (t[:, 0] == ta) & (t[:, 1] == tb) & (r < rc)
        sr6 = (sigma / r[sel]) ** 6
        total += np.sum(4 * eps * (sr6 * sr6 - sr6))
        if shifted:
            total -= np.count_nonzero(sel) * model.shift_constant(*names)
    return total / protocol.n_particles


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("lammps")
    result = lammps_engine.run_cooling(PROTOCOL, d / "cool.gsd", d / "cool_is.gsd", progress=False)
    return result


def read(path):
    with gsd_hoomd.open(path) as traj:
        return list(traj)


def test_files_written_and_no_temporaries_left(run):
    assert run.out_path.exists() and run.is_out_path.exists()
    assert sorted(os.listdir(run.out_path.parent)) == ["cool.gsd", "cool_is.gsd"]


@pytest.mark.parametrize("which", ["out_path", "is_out_path"])
def test_gsd_layout(run, which):
    frames = read(getattr(run, which))
    assert len(frames) == PROTOCOL.n_records + 1
    half = PROTOCOL.box_length / 2
    steps = []
    for k, frame in enumerate(frames):
        assert frame.particles.N == 200  # no atoms lost
        assert frame.particles.types == ["A", "B"]
        assert np.count_nonzero(frame.particles.typeid == 1) == PROTOCOL.n_b
        pos = frame.particles.position
        assert pos.dtype == np.float32 and pos.shape == (200, 3)
        assert np.all(pos[:, 2] == 0)
        assert np.all(pos[:, :2] >= -half) and np.all(pos[:, :2] < half)
        assert frame.configuration.dimensions == 2
        np.testing.assert_allclose(frame.configuration.box, [2 * half, 2 * half, 0, 0, 0, 0], rtol=1e-6)
        assert frame.log["mda_glassml/record"][0] == k
        assert frame.log["mda_glassml/temperature"].dtype == np.float64
        assert frame.log["mda_glassml/temperature"][0] == PROTOCOL.record_temperatures()[k]
        steps.append(frame.configuration.step)
    np.testing.assert_array_equal(steps, PROTOCOL.record_steps())


def test_loads_in_mdanalysis(run):
    mda = pytest.importorskip("MDAnalysis")
    u = mda.Universe(str(run.out_path))
    assert u.atoms.n_atoms == 200
    assert set(u.atoms.types) == {"A", "B"}
    assert u.trajectory.n_frames == PROTOCOL.n_records + 1
    assert u.dimensions[0] == pytest.approx(PROTOCOL.box_length, rel=1e-6)
    assert u.dimensions[2] == 0


def test_energies_match_independent_evaluation(run):
    thermal, inherent = read(run.out_path), read(run.is_out_path)
    for frame, fis in zip(thermal, inherent):
        tid = frame.particles.typeid
        # float32 positions in the file: agree to ~1e-6 per particle.
        assert frame.log["mda_glassml/potential_energy"][0] == pytest.approx(
            lj_energy_per_particle(PROTOCOL, frame.particles.position, tid), abs=1e-5)
        assert fis.log["mda_glassml/is_energy"][0] == pytest.approx(
            lj_energy_per_particle(PROTOCOL, fis.particles.position, tid), abs=1e-5)
        assert fis.log["mda_glassml/is_energy_shifted"][0] == pytest.approx(
            lj_energy_per_particle(PROTOCOL, fis.particles.position, tid, shifted=True), abs=1e-5)


def test_physics_sanity(run):
    # Inherent structures lie below their thermal configurations ...
    assert np.all(run.is_energy < run.potential_energy)
    # ... shifting raises the energy (the cut is in the attractive tail) ...
    assert np.all(run.is_energy_shifted > run.is_energy)
    # ... and the coldest record sits deeper in the landscape than the T = 2 one.
    assert run.is_energy[-1] < run.is_energy[0]
    np.testing.assert_array_equal(run.temperatures, PROTOCOL.record_temperatures())
    assert run.kinetic_temperatures[0] == pytest.approx(PROTOCOL.t_start, rel=1e-6)


def test_record_subset_and_reproducible(run, tmp_path):
    again = lammps_engine.run_cooling(PROTOCOL, tmp_path / "sub.gsd", records=[5, 2], progress=False)
    assert again.is_out_path is None and again.is_energy is None
    np.testing.assert_array_equal(again.records, [2, 5])
    # Same seed, same serial engine: identical trajectory.
    np.testing.assert_array_equal(again.potential_energy, run.potential_energy[[2, 5]])
    frames = read(tmp_path / "sub.gsd")
    np.testing.assert_array_equal(frames[1].particles.position, read(run.out_path)[5].particles.position)


def test_bad_records_rejected(tmp_path):
    with pytest.raises(ValueError, match="record indices"):
        lammps_engine.run_cooling(PROTOCOL, tmp_path / "x.gsd", records=[6], progress=False)
    assert not list(tmp_path.iterdir())


def test_lammps_error_surfaces_and_leaves_no_file(tmp_path):
    # A timestep this large blows the lattice apart: LAMMPS loses atoms.
    bad = CoolingProtocol(n_particles=200, n_steps=500, n_records=1, dt=1.0, seed=7)
    with pytest.raises(RuntimeError, match="LAMMPS"):
        lammps_engine.run_cooling(bad, tmp_path / "bad.gsd", progress=False)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("engine", ["lammps", "hoomd"])
def test_inherent_frames_of_any_frame_match_the_runs_own(run, engine):
    # A thermal record read back as a Frame (as MDAnalysis or OVITO would give it), minimised by
    # inherent_frames, lands where the run's own minimiser did: same energy, same positions.
    from mda_glassml.errors import InputError
    from mda_glassml.frames import Frame
    from mda_glassml.simulation.campaign import EngineUnavailable
    from mda_glassml.simulation.inherent import inherent_frames

    if engine == "hoomd":
        from mda_glassml.simulation.hoomd_engine import hoomd_available

        if not hoomd_available():
            pytest.skip("HOOMD-blue is not installed")
    thermal, inherent = read(run.out_path), read(run.is_out_path)
    frames = [Frame.from_gsd(thermal[k], frame=k) for k in (1, 4)]
    is_frames, energies = inherent_frames(frames, engine=engine, device="cpu") if engine == "hoomd" else \
        inherent_frames(frames)
    logged = [float(inherent[k].log["mda_glassml/is_energy"][0]) for k in (1, 4)]
    # HOOMD-blue's FIRE takes another path to a neighbouring minimum (measured 8e-5 lower per particle)
    np.testing.assert_allclose(energies, logged, atol=5e-4 if engine == "hoomd" else 1e-6)
    if engine == "lammps":
        for f, k in zip(is_frames, (1, 4)):
            d = f.positions - np.asarray(inherent[k].particles.position)[:, :2]
            d -= PROTOCOL.box_length * np.round(d / PROTOCOL.box_length)
            assert np.abs(d).max() < 1e-3
    assert all(np.array_equal(f.types, g.types) for f, g in zip(is_frames, frames))
    # windows and non-square boxes are refused with the reason
    from mda_glassml.graphs import window

    with pytest.raises(InputError, match="open edges"):
        inherent_frames([window(frames[0], 5.0)])
    rect = Frame.from_arrays(frames[0].positions * [1.0, 0.5], frames[0].types, [PROTOCOL.box_length,
                                                                                PROTOCOL.box_length / 2], 0, 1)
    with pytest.raises(InputError, match="square"):
        inherent_frames([rect])
    with pytest.raises(InputError, match="unknown engine"):
        inherent_frames(frames, engine="gromacs")
    assert issubclass(EngineUnavailable, InputError)
