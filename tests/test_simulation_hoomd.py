"""The HOOMD-blue engine, hoomd_scripts/ and HOOMD campaigns, against a real HOOMD-blue.

They run wherever HOOMD-blue is installed (CI installs the CPU build in ../shared/hoomd/) and skip,
saying why, where it is not (conda-forge only: a user's clone without it).
"""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mda_glassml.errors import InputError
from mda_glassml.simulation import CoolingProtocol
from mda_glassml.simulation.protocol import FireSettings

hoomd = pytest.importorskip("hoomd", reason="HOOMD-blue is not installed (conda-forge only; CI installs a CPU build)")
gsd_hoomd = pytest.importorskip("gsd.hoomd")
from mda_glassml.simulation import campaign as cmp  # noqa: E402
from mda_glassml.simulation import hoomd_engine  # noqa: E402
from reference import ka_force_norm  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent.parent / "hoomd_scripts"
PROTOCOL = CoolingProtocol(n_particles=200, n_steps=2000, n_records=5, seed=7)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("hoomd")
    return hoomd_engine.run_cooling(PROTOCOL, d / "c.gsd", d / "c_is.gsd", progress=False, device="cpu")


def test_writes_both_files_with_the_protocols_records(run):
    with gsd_hoomd.open(run.out_path) as traj, gsd_hoomd.open(run.is_out_path) as is_traj:
        assert len(traj) == len(is_traj) == PROTOCOL.n_records + 1
        for k, (f, g) in enumerate(zip(traj, is_traj)):
            assert f.configuration.dimensions == 2 and f.particles.types == ["A", "B"]
            assert f.log["mda_glassml/record"][0] == k
            assert f.log["mda_glassml/temperature"][0] == pytest.approx(PROTOCOL.record_temperatures()[k])
            assert g.log["mda_glassml/is_energy"][0] < f.log["mda_glassml/potential_energy"][0]
            assert f.configuration.step == PROTOCOL.record_steps()[k]
    assert not list(Path(run.out_path).parent.glob(".*part"))


def test_physics_sanity(run):
    assert run.is_energy[-1] < run.is_energy[1]
    assert np.all(run.is_energy_shifted > run.is_energy)
    assert abs(run.kinetic_temperatures[-1] - PROTOCOL.t_end) < 0.1


def test_fire_stops_on_lammps_force_criterion(run):
    # ftol bounds the 2-norm of the whole force vector, as in LAMMPS. The old conversion
    # (ftol / (N sqrt(2))) asked for sqrt(N) ~ 14 times less here. Recomputed in float64 from
    # the minimiser's own positions (the file's float32 positions alone give norms ~1e-3).
    with gsd_hoomd.open(run.out_path) as traj:
        frames = [np.asarray(f.particles.position, float) for f in traj]
        typeid = traj[0].particles.typeid
    ism = hoomd_engine._Minimiser(PROTOCOL, hoomd_engine._device("cpu"), frames[0], typeid)
    norms = [ka_force_norm(ism.minimise(xyz)[0], typeid, PROTOCOL) for xyz in frames]
    ftol = PROTOCOL.is_fire.ftol
    assert max(norms) < 1.01 * ftol, norms
    assert np.median(norms) > ftol / np.sqrt(PROTOCOL.n_particles), norms


def test_fire_iterations_are_exact(run):
    """The count is the iteration at which FIRE converged, not a multiple of the chunk size."""
    iters = run.fire_iterations
    assert np.all(iters > 0) and not np.all(iters % 1000 == 0)
    with gsd_hoomd.open(run.out_path) as traj:
        xyz, typeid = np.asarray(traj[2].particles.position, float), traj[2].particles.typeid
    ism = hoomd_engine._Minimiser(PROTOCOL, hoomd_engine._device("cpu"), xyz, typeid)
    _, e, n = ism.minimise(xyz)
    assert n == iters[2]
    short = replace(PROTOCOL.is_fire, max_iter=n - 1)
    _, _, n_short = ism.minimise(xyz, short)
    assert n_short == n - 1 and ism.watch.converged_at is None  # one iteration fewer: not converged
    _, e_again, n_again = ism.minimise(xyz, replace(PROTOCOL.is_fire, max_iter=n))
    assert n_again == n and ism.watch.converged_at is not None and e_again == pytest.approx(e, abs=1e-9)


def test_progress_bar_counts_steps_after_they_ran(tmp_path, monkeypatch):
    seen = []
    real_run = hoomd.Simulation.run

    def spy(sim, steps, *a, **kw):
        real_run(sim, steps, *a, **kw)
        seen.append(("ran", sim.timestep))

    import tqdm.auto

    class Bar(tqdm.auto.tqdm):
        def update(self, n=1):
            seen.append(("bar", self.n + n))
            return super().update(n)

    monkeypatch.setattr(hoomd.Simulation, "run", spy)
    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    protocol = CoolingProtocol(n_particles=64, n_steps=200, n_records=2, seed=3)
    hoomd_engine.run_cooling(protocol, tmp_path / "p.gsd", records=[1, 2], progress=True, device="cpu")
    bars = [i for i, (what, _) in enumerate(seen) if what == "bar"]
    assert [seen[i][1] for i in bars] == [100, 200]
    # Each bar update follows a run that reached that step.
    assert all(seen[i - 1] == ("ran", seen[i][1]) for i in bars)


def test_hold_and_inherent_script(tmp_path):
    hold = CoolingProtocol.hold(0.547, 1000, melt_steps=200, n_records=1, n_particles=200)
    res = hoomd_engine.run_cooling(hold, tmp_path / "h.gsd", records=[0, 1], progress=False, device="cpu")
    # record 0 is the end of the melt at T = 2 (it was tagged 0.547): its kinetic T says so
    assert res.temperatures.tolist() == [2.0, 0.547]
    with gsd_hoomd.open(tmp_path / "h.gsd") as traj:
        assert [f.log["mda_glassml/temperature"][0] for f in traj] == [2.0, 0.547]
        assert traj[0].log["mda_glassml/kinetic_temperature"][0] > 1.5
    out = subprocess.run([sys.executable, str(SCRIPTS / "ka2d_inherent.py"), "--in", str(tmp_path / "h.gsd"),
                          "--out", str(tmp_path / "h_is.gsd"), "--device", "cpu", "--quiet"], capture_output=True)
    assert out.returncode == 0, out.stderr
    with gsd_hoomd.open(tmp_path / "h_is.gsd") as traj:
        assert "mda_glassml/is_energy" in traj[0].log


def test_cooling_script(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPTS / "ka2d_cooling.py"), "--out", str(tmp_path / "c.gsd"),
                          "--is-out", str(tmp_path / "c_is.gsd"), "--particles", "100", "--steps", "1000",
                          "--records", "1,200", "--seed", "9", "--device", "cpu"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "IS/N" in out.stdout  # the per-record table
    with gsd_hoomd.open(tmp_path / "c_is.gsd") as traj:
        assert [int(f.log["mda_glassml/record"][0]) for f in traj] == [1, 200]


def test_bad_input(tmp_path):
    with pytest.raises(InputError, match="device='gpu' was asked for.*use device='cpu'"):
        hoomd_engine.run_cooling(PROTOCOL, tmp_path / "x.gsd", device="gpu", progress=False)
    with pytest.raises(InputError, match="device must be one of"):
        hoomd_engine.run_cooling(PROTOCOL, tmp_path / "x.gsd", device="tpu", progress=False)
    with pytest.raises(InputError, match="only the force criterion"):
        hoomd_engine.run_cooling(replace(PROTOCOL, is_fire=FireSettings(etol=1e-8, ftol=1e-6)),
                                 tmp_path / "x.gsd", device="cpu", progress=False)
    with pytest.raises(InputError, match=r"seed must be in \[1, 65535\]"):
        replace(PROTOCOL, seed=70_000)
    # a box the protocol allows (side 5 = two cutoffs) but HOOMD-blue's neighbour list does not (5.6)
    tight = replace(PROTOCOL, n_particles=37, n_steps=10, n_records=1)
    with pytest.raises(InputError, match="HOOMD-blue needs at least 5.6.*use at least 38 particles"):
        hoomd_engine.run_cooling(tight, tmp_path / "x.gsd", device="cpu", progress=False)
    with pytest.raises(InputError, match="use at least 38 particles"):
        cmp.run_campaign(tmp_path / "tight", tight, 1, engine="hoomd", device="cpu", progress=False)
    assert not (tmp_path / "tight").exists() or not list((tmp_path / "tight").glob("traj_*"))
    hoomd_engine.run_cooling(replace(tight, n_particles=38), tmp_path / "ok.gsd", device="cpu", progress=False)
    with pytest.warns(UserWarning, match="no usable GPU; running on the CPU"):
        hoomd_engine.run_cooling(replace(PROTOCOL, n_steps=10, n_records=1), tmp_path / "a.gsd", records=[1],
                                 device="auto", progress=False)
    assert not (tmp_path / "x.gsd").exists()
    out = subprocess.run([sys.executable, str(SCRIPTS / "ka2d_cooling.py"), "--out", str(tmp_path / "g.gsd"),
                          "--particles", "100", "--device", "gpu"], capture_output=True, text=True)
    assert out.returncode == 2 and "no GPU support" in out.stderr and "Traceback" not in out.stderr


# -- campaigns with --engine hoomd: the same guarantees as with LAMMPS ------------------------------
CAMPAIGN_PROTOCOL = CoolingProtocol(n_particles=100, n_steps=2000, n_records=200)


def positions(path):
    with gsd_hoomd.open(path) as traj:
        return np.stack([f.particles.position for f in traj])


def test_campaign_runs_restarts_and_redoes_damaged_runs(tmp_path):
    records = (1, 200)
    kwargs = dict(engine="hoomd", records=records, campaign_seed=5, progress=False, device="cpu")
    report = cmp.run_campaign(tmp_path, CAMPAIGN_PROTOCOL, 2, **kwargs)
    assert report.ran == [0, 1]
    c = cmp.Campaign.open(tmp_path)
    assert json.loads((tmp_path / "campaign.json").read_text())["engine"] == "hoomd"
    info = json.loads(c.paths(1)[2].read_text())
    assert info["engine"] == "hoomd" and info["seed"] == cmp.run_seeds(5, 2)[1]
    assert cmp.run_campaign(tmp_path, CAMPAIGN_PROTOCOL, 2, **kwargs).skipped == [0, 1]
    good = positions(c.paths(1)[1])
    path = c.paths(1)[1]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a truncated GSD
    c.paths(0)[2].unlink()  # killed before its completion record
    assert "traj_0001_is.gsd" in c.problem(1) and c.problem(0) == "no completion record"
    report = cmp.run_campaign(tmp_path, CAMPAIGN_PROTOCOL, 2, **kwargs)
    assert sorted(report.redone) == [0, 1] and c.complete_runs() == [0, 1]
    np.testing.assert_array_equal(positions(path), good)  # same seed, same run (HOOMD on a CPU is deterministic)
    with pytest.raises(InputError, match="different campaign.*engine"):
        cmp.run_campaign(tmp_path, CAMPAIGN_PROTOCOL, 2, records=records, campaign_seed=5, progress=False)
    with pytest.raises(InputError, match="device='gpu' was asked for"):
        cmp.run_campaign(tmp_path / "gpu", CAMPAIGN_PROTOCOL, 1, engine="hoomd", device="gpu", progress=False)
    assert not (tmp_path / "gpu").exists()


def test_cli_simulate_with_hoomd(tmp_path, capsys):
    from mda_glassml.cli import main

    args = ["simulate", "--engine", "hoomd", "--out", str(tmp_path / "c"), "--n-trajectories", "1",
            "--particles", "64", "--steps", "200", "--records", "1,200", "--quiet"]
    assert main(args + ["--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert "device='gpu' was asked for" in err and "Traceback" not in err
    assert main(args + ["--device", "cpu"]) == 0
    assert cmp.Campaign.open(tmp_path / "c").complete_runs() == [0]


def test_quick_physics_validation_with_hoomd(tmp_path):
    """The CI-scale physics check (N = 256, 2e4 steps, 3 runs) passes its trend checks with HOOMD-blue too."""
    from mda_glassml.simulation import validate

    assert validate.main(["--quick", "--engine", "hoomd", "--device", "cpu", "--out", str(tmp_path), "--quiet"]) == 0
    result = json.loads((tmp_path / "validation.json").read_text())
    assert result["passed"] and cmp.Campaign.open(tmp_path).engine == "hoomd"
    assert result["rdf_aa_peak_glass"] > result["rdf_aa_peak_liquid"]


def test_dynamics_in_chunks_lets_other_threads_run_and_changes_nothing(tmp_path, monkeypatch):
    """HOOMD holds the GIL for a whole Simulation.run: one long call starved a dask worker's heartbeat
    (the scheduler restarted the worker after 5 minutes, killing the run). Chunks free it and give the
    same trajectory bit for bit."""
    import threading
    import time

    protocol = CoolingProtocol(n_particles=128, n_steps=20_000, n_records=1, seed=4)
    ticks, stop = [], threading.Event()

    def heartbeat():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=heartbeat)
    thread.start()
    try:
        t0 = time.perf_counter()
        hoomd_engine.run_cooling(protocol, tmp_path / "a.gsd", records=[1], progress=False, device="cpu")
        t1 = time.perf_counter()
    finally:
        stop.set()
        thread.join()
    gaps = np.diff([t for t in ticks if t0 < t < t1])
    # One call held the GIL for the whole ramp (measured: a 1.15 s gap in a 1.5 s run); in chunks of
    # 1000 steps the longest gap was 0.10 s.
    assert gaps.max() < 0.25 * (t1 - t0)
    monkeypatch.setattr(hoomd_engine, "_MD_CHUNK", 7)
    hoomd_engine.run_cooling(protocol, tmp_path / "b.gsd", records=[1], progress=False, device="cpu")
    np.testing.assert_array_equal(positions(tmp_path / "a.gsd"), positions(tmp_path / "b.gsd"))


def test_classifier_minimises_with_hoomd_on_the_models_device_without_a_gpu_warning(run):
    # A model on the CPU minimises on the CPU without HOOMD-blue's "no usable GPU" warning (the
    # command line has no engine device to silence it with); the result is HOOMD-blue's minimum.
    import warnings

    from mda_glassml.classify import Classifier
    from mda_glassml.frames import Frame
    from mda_glassml.simulation.inherent import inherent_frames

    with gsd_hoomd.open(run.out_path) as traj:
        frame = Frame.from_gsd(traj[-1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        via_option = Classifier("ka2d-dmpnn", inherent="hoomd").logits([frame])
    assert not [w for w in caught if "GPU" in str(w.message)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 200 particles: far smaller than the card's training box
        direct = Classifier("ka2d-dmpnn").logits(inherent_frames([frame], "hoomd", device="cpu")[0])
    np.testing.assert_allclose(via_option, direct, rtol=1e-6)
