"""Campaigns: many runs on dask, restartable, never mixing protocols (tiny real LAMMPS runs)."""

import json
import os

import numpy as np
import pytest

from mda_glassml.errors import InputError
from mda_glassml.simulation import CoolingProtocol
from mda_glassml.simulation import campaign as cmp

lammps_engine = pytest.importorskip("mda_glassml.simulation.lammps")
if not lammps_engine.lammps_available():
    pytest.skip('LAMMPS cannot be loaded (pip install "mda-glassml[lammps]")', allow_module_level=True)
pytest.importorskip("dask.distributed")
gsd_hoomd = pytest.importorskip("gsd.hoomd")

PROTOCOL = CoolingProtocol(n_particles=100, n_steps=2000, n_records=200)
RECORDS = cmp.RECORD_PRESETS["datasets"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("campaign")
    report = cmp.run_campaign(d, PROTOCOL, 2, records=RECORDS, campaign_seed=5, progress=False)
    assert report.ran == [0, 1] and not report.skipped
    return d


def positions(path):
    with gsd_hoomd.open(path) as traj:
        return np.stack([f.particles.position for f in traj])


def test_seeds_distinct_deterministic_and_prefix_stable():
    seeds = cmp.run_seeds(5, 1000)
    assert len(set(seeds)) == 1000 and all(1 <= s <= 65535 for s in seeds)
    assert cmp.run_seeds(5, 10) == seeds[:10]
    assert cmp.run_seeds(6, 10) != seeds[:10]


def test_layout(folder):
    desc = json.loads((folder / "campaign.json").read_text())
    assert desc["records"] == list(RECORDS) and desc["engine"] == "lammps" and desc["campaign_seed"] == 5
    assert "seed" not in desc["protocol"]
    c = cmp.Campaign.open(folder)
    assert c.complete_runs() == [0, 1]
    for i in (0, 1):
        thermal, inherent, done = c.paths(i)
        info = json.loads(done.read_text())
        assert info["seed"] == cmp.run_seeds(5, 2)[i] and len(info["is_energy"]) == len(RECORDS)
        assert len(info["fire_iterations"]) == len(RECORDS) and min(info["fire_iterations"]) > 0
        with gsd_hoomd.open(thermal) as traj:
            assert [int(f.log["mda_glassml/record"][0]) for f in traj] == list(RECORDS)
    # Different seeds, different runs.
    assert not np.array_equal(positions(c.paths(0)[0]), positions(c.paths(1)[0]))
    assert not list(folder.glob(".*part"))


def test_restart_skips_complete_runs(folder):
    mtimes = [os.stat(p).st_mtime_ns for p in folder.iterdir()]
    report = cmp.run_campaign(folder, PROTOCOL, 2, records=RECORDS, campaign_seed=5, progress=False)
    assert report.skipped == [0, 1] and report.ran == []
    assert [os.stat(p).st_mtime_ns for p in folder.iterdir()] == mtimes


def test_damaged_runs_detected_and_redone(folder):
    c = cmp.Campaign.open(folder)
    good = positions(c.paths(1)[1])
    # A truncated GSD (disk full, bad copy) and a run killed between rename and completion record.
    path = c.paths(1)[1]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    c.paths(0)[2].unlink()
    (folder / ".traj_0000.gsd.999.part").write_bytes(b"half a file")
    assert "traj_0001_is.gsd" in c.problem(1) and c.problem(0) == "no completion record"
    assert c.complete_runs() == []
    report = cmp.run_campaign(folder, PROTOCOL, 2, records=RECORDS, campaign_seed=5, progress=False)
    assert sorted(report.redone) == [0, 1] and report.ran == [0, 1]
    assert c.complete_runs() == [0, 1]
    np.testing.assert_array_equal(positions(path), good)  # same seed: the same run again
    assert not list(folder.glob(".*part"))


@pytest.mark.parametrize("change, field", [
    ({"protocol": CoolingProtocol(n_particles=120, n_steps=2000, n_records=200)}, "n_particles"),
    ({"records": (1, 200)}, "records"),
    # --records all would list 201 numbers: its size and ends instead
    ({"records": tuple(range(201))}, r"records: folder has \[1, 25, 107, 149, 160, 200\], asked 201 records \[0, 1, \.\.\., 200\]"),
    ({"campaign_seed": 6}, "campaign_seed"),
])
def test_refuses_to_mix_protocols(folder, change, field):
    kwargs = {"protocol": PROTOCOL, "records": RECORDS, "campaign_seed": 5, **change}
    with pytest.raises(InputError, match=f"different campaign.*{field}"):
        cmp.run_campaign(folder, kwargs["protocol"], 3, records=kwargs["records"],
                         campaign_seed=kwargs["campaign_seed"], progress=False)
    assert not cmp.Campaign.open(folder).paths(2)[0].exists()


def test_refuses_unknown_trajectories_folder(tmp_path):
    (tmp_path / "traj_0000.gsd").write_bytes(b"")
    with pytest.raises(InputError, match="no campaign.json"):
        cmp.run_campaign(tmp_path, PROTOCOL, 1, progress=False)


def test_bad_input(tmp_path):
    with pytest.raises(InputError, match="unknown engine"):
        cmp.run_campaign(tmp_path, PROTOCOL, 1, engine="gromacs", progress=False)
    with pytest.raises(InputError, match="n_trajectories"):
        cmp.run_campaign(tmp_path, PROTOCOL, 0, progress=False)
    with pytest.raises(InputError, match="record indices"):
        cmp.run_campaign(tmp_path, PROTOCOL, 1, records=[201], progress=False)
    with pytest.raises(InputError, match="workers"):
        cmp.run_campaign(tmp_path, PROTOCOL, 1, n_workers=0, progress=False)
    assert not list(tmp_path.iterdir())


def test_hoomd_missing_says_how_to_install(tmp_path, no_hoomd):
    with pytest.raises(cmp.EngineUnavailable, match="conda-forge.*LAMMPS engine"):
        cmp.run_campaign(tmp_path, PROTOCOL, 1, engine="hoomd", progress=False)
    assert not list(tmp_path.iterdir())


def test_runs_on_a_given_scheduler(tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        report = cmp.run_campaign(tmp_path, PROTOCOL, 1, records=(1, 200), scheduler=cluster.scheduler_address,
                                  progress=False)
    assert report.ran == [0] and cmp.Campaign.open(tmp_path).complete_runs() == [0]


def test_a_script_without_a_main_guard_is_told_to_add_one(tmp_path):
    # dask spawns its workers, which import the script again: dask itself only said "Nanny failed to start"
    import subprocess
    import sys

    script = tmp_path / "campaign_script.py"
    script.write_text("from mda_glassml.simulation import CoolingProtocol\n"
                      "from mda_glassml.simulation.campaign import run_campaign\n"
                      f"run_campaign({str(tmp_path / 'c')!r}, CoolingProtocol(n_particles=256, n_steps=200, "
                      "n_records=200), 1, records=[200], progress=False)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("mda_glassml.errors.InputError") and 'if __name__ == "__main__":' in last
    assert str(script) in last
