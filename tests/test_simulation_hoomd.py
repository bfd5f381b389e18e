"""The HOOMD-blue engine and hoomd_scripts/ (skipped where HOOMD-blue is not installed: it is conda-forge only)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mda_glassml.simulation import CoolingProtocol

hoomd = pytest.importorskip("hoomd")
gsd_hoomd = pytest.importorskip("gsd.hoomd")
from mda_glassml.simulation import hoomd_engine  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent.parent / "hoomd_scripts"
PROTOCOL = CoolingProtocol(n_particles=200, n_steps=2000, n_records=5, seed=7)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("hoomd")
    return hoomd_engine.run_cooling(PROTOCOL, d / "c.gsd", d / "c_is.gsd", progress=False, device="cpu")


def test_same_layout_as_lammps_engine(run):
    with gsd_hoomd.open(run.out_path) as traj, gsd_hoomd.open(run.is_out_path) as is_traj:
        assert len(traj) == len(is_traj) == PROTOCOL.n_records + 1
        for k, (f, g) in enumerate(zip(traj, is_traj)):
            assert f.configuration.dimensions == 2 and f.particles.types == ["A", "B"]
            assert f.log["mda_glassml/record"][0] == k
            assert f.log["mda_glassml/temperature"][0] == pytest.approx(PROTOCOL.record_temperatures()[k])
            assert g.log["mda_glassml/is_energy"][0] < f.log["mda_glassml/potential_energy"][0]
            assert f.configuration.step == PROTOCOL.record_steps()[k]


def test_physics_sanity(run):
    assert run.is_energy[-1] < run.is_energy[1]
    assert np.all(run.is_energy_shifted > run.is_energy)
    assert abs(run.kinetic_temperatures[-1] - PROTOCOL.t_end) < 0.1


def test_hold_and_inherent_script(tmp_path):
    hold = CoolingProtocol.hold(0.547, 1000, melt_steps=200, n_records=1, n_particles=200)
    res = hoomd_engine.run_cooling(hold, tmp_path / "h.gsd", records=[1], progress=False, device="cpu")
    assert res.temperatures.tolist() == [0.547]
    out = subprocess.run([sys.executable, str(SCRIPTS / "ka2d_inherent.py"), "--in", str(tmp_path / "h.gsd"),
                          "--out", str(tmp_path / "h_is.gsd"), "--device", "cpu", "--quiet"], capture_output=True)
    assert out.returncode == 0, out.stderr
    with gsd_hoomd.open(tmp_path / "h_is.gsd") as traj:
        assert "mda_glassml/is_energy" in traj[0].log
