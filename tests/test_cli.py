"""The mda-glassml command: outputs, messages, and failing before work."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from mda_glassml.cli import main
from mda_glassml.data import EXAMPLE_TRAJECTORY


def read_csv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_metrics_writes_table_and_plot_against_temperature(random_gsd, tmp_path, capsys):
    out, plot = tmp_path / "m.csv", tmp_path / "m.png"
    assert main(["metrics", random_gsd, "--out", str(out), "--plot", str(plot), "--k", "3"]) == 0
    rows = read_csv(out)
    assert len(rows) == 8
    assert list(rows[0])[:3] == ["frame", "time", "temperature"]
    assert float(rows[0]["temperature"]) == pytest.approx(2.0)
    assert plot.read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert "n_bb_edges" in printed
    # The same numbers as the analysis class.
    import MDAnalysis as mda

    from mda_glassml.analysis import BNeighborMetrics

    res = BNeighborMetrics(mda.Universe(random_gsd).atoms, k=3).run().results
    assert [int(r["n_bb_edges"]) for r in rows] == res.n_bb_edges.tolist()


def test_rdf_writes_table_and_plot(random_gsd, tmp_path):
    out, plot = tmp_path / "g.csv", tmp_path / "g.svg"
    assert main(["rdf", random_gsd, "--r-max", "4", "--bins", "40", "--out", str(out), "--plot", str(plot),
                 "--backend", "multiprocessing", "--workers", "2", "--quiet"]) == 0
    rows = read_csv(out)
    assert len(rows) == 40 and list(rows[0]) == ["r", "g_AA", "g_AB", "g_BB", "g_all"]
    assert "<svg" in plot.read_text()[:500]


def test_unwritable_output_fails_before_any_work(random_gsd, tmp_path, capsys):
    assert main(["metrics", random_gsd, "--out", str(tmp_path / "no" / "such" / "dir.csv")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    assert main(["metrics", random_gsd, "--plot", str(tmp_path / "plot.xyz")]) == 2
    assert "unknown image type" in capsys.readouterr().err


def test_an_output_never_replaces_an_input_or_another_output(random_gsd, tmp_path, capsys):
    import shutil

    copy = tmp_path / "run.gsd"
    shutil.copy(random_gsd, copy)
    before = copy.read_bytes()
    for command in ("metrics", "rdf", "classify"):
        assert main([command, str(copy), "--out", str(copy), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert f"--out {copy} is the trajectory" in err and "Traceback" not in err
    assert copy.read_bytes() == before
    same = tmp_path / "m.svg"
    assert main(["metrics", str(copy), "--out", str(same), "--plot", str(same), "--quiet"]) == 2
    assert "--out and --plot are the same file" in capsys.readouterr().err
    assert not same.exists()


def test_missing_file_and_wrong_types_are_one_line_errors(random_gsd, tmp_path, capsys):
    assert main(["metrics", str(tmp_path / "missing.gsd")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["metrics", random_gsd, "--a-type", "1", "--b-type", "2"]) == 2
    err = capsys.readouterr().err
    assert "'1', '2' not present" in err and "'A', 'B'" in err
    junk = tmp_path / "junk.gsd"
    junk.write_text("not a trajectory")
    assert main(["metrics", str(junk)]) == 2
    assert "could not read" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--step", "0"], "step must not be 0"),
    (["--start", "5", "--stop", "2"], "select no frames"),
    (["--backend", "multiprocessing", "--workers", "-3"], "--workers must be a positive integer, got -3"),
    (["--backend", "dask", "--workers", "0"], "--workers must be a positive integer, got 0"),
    (["--workers", "2"], "--workers 2 needs a parallel backend"),
    (["--stop", "-100", "--step", "-1"], "select no frames"),
])
def test_a_bad_frame_selection_is_a_one_line_error(random_gsd, tmp_path, capsys, args, message):
    out = tmp_path / "m.csv"
    assert main(["metrics", random_gsd, "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_workers_without_a_parallel_backend_fail_before_the_model_loads(random_gsd, capsys):
    # The model name is bad too: the --workers mistake must be the one reported, before anything loads.
    assert main(["classify", random_gsd, "--workers", "2", "--model", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert "--workers 2 needs a parallel backend" in err and "no-such-model" not in err


def test_no_output_is_left_half_written(random_gsd, tmp_path):
    out = tmp_path / "m.csv"
    out.write_text("previous results\n")
    # k too large fails during validation: the old file must survive untouched.
    assert main(["metrics", random_gsd, "--k", "500", "--out", str(out)]) == 2
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv"]


def test_example_is_used_when_no_trajectory_is_given(tmp_path, capsys):
    out = tmp_path / "m.csv"
    assert main(["metrics", "--out", str(out)]) == 0
    assert "bundled example" in capsys.readouterr().err
    rows = read_csv(out)
    assert len(rows) == 21
    temperature = np.array([float(r["temperature"]) for r in rows])
    assert temperature[0] == pytest.approx(1.99025) and temperature[-1] == pytest.approx(0.05)


def test_console_script_runs():
    done = subprocess.run([sys.executable, "-m", "mda_glassml.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and "mda-glassml" in done.stdout


DUMP = """ITEM: TIMESTEP
0
ITEM: NUMBER OF ATOMS
3
ITEM: BOX BOUNDS pp pp pp
0 10
0 10
-0.5 0.5
ITEM: ATOMS id type x y z
1 1 1 1 0
2 2 5 5 0
3 1 8 2 0
"""

DATA = """LAMMPS data

3 atoms
2 atom types

0 10 xlo xhi
0 10 ylo yhi
-0.5 0.5 zlo zhi

Atoms # full

1 1 1 0.0 1 1 0
2 1 2 0.0 5 5 0
3 1 1 0.0 8 2 0
"""


def test_a_lammps_dump_with_a_topology_and_options_without_a_trajectory(tmp_path, capsys, recwarn):
    dump, data = tmp_path / "run.lammpstrj", tmp_path / "run.data"
    dump.write_text(DUMP)
    data.write_text(DATA)
    # .lammpstrj is no extension MDAnalysis knows: the format must come from the name with a topology too.
    for extra in ([], ["--topology", str(data)]):
        assert main(["metrics", str(dump), *extra, "--a-type", "1", "--b-type", "2", "--k", "1",
                     "--out", str(tmp_path / "m.csv"), "--quiet"]) == 0
        assert [int(r["n_isolated_a"]) for r in read_csv(tmp_path / "m.csv")] == [1]
    assert not [w for w in recwarn if "asses" in str(w.message)]  # nothing uses masses: no word about them
    assert main(["metrics", "--topology", str(data), "--quiet"]) == 2
    assert "--topology without a trajectory" in capsys.readouterr().err


def test_an_interrupt_is_one_line_that_says_what_was_kept(random_gsd, tmp_path, capsys, monkeypatch):
    import mda_glassml.analysis.bneighbor as face

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(face, "b_neighbor_metrics", interrupted)
    out = tmp_path / "m.csv"
    assert main(["metrics", random_gsd, "--out", str(out), "--quiet"]) == 130
    assert capsys.readouterr().err.strip() == "mda-glassml metrics: interrupted; nothing was written."
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--model", "no-such-model"], "no model 'no-such-model'"),
    (["--a-type", "A", "--b-type", "A"], "a_type and b_type are both 'A'"),
])
def test_command_line_mistakes_fail_before_torch_loads(args, message):
    # torch, the trajectory and the model take seconds to load: a mistake the command line shows needs none
    code = ("import sys; from mda_glassml.cli import main; "
            f"rc = main(['classify', {EXAMPLE_TRAJECTORY!r}, *{args!r}]); print(rc, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert message in done.stderr and done.stdout.split() == ["2", "False"]


def _lammps_data(path, pos, names, side):
    """A LAMMPS data file, atom_style atomic (id type x y z), box from 0: the usual one of a 2D KA run."""
    types = np.where(np.asarray(names) == "A", 1, 2)
    lines = ["LAMMPS data file", "", f"{len(pos)} atoms", "2 atom types", "",
             f"0 {side} xlo xhi", f"0 {side} ylo yhi", "-0.5 0.5 zlo zhi", "", "Masses", "", "1 1", "2 1", "",
             "Atoms # atomic", ""]
    lines += [f"{i + 1} {t} {x:.10f} {y:.10f} 0" for i, (t, (x, y)) in enumerate(zip(types, pos))]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("name", ["data.kob", "kob.lmp", "kob.data"])
def test_lammps_data_files_of_atom_style_atomic_are_read(tmp_path, name):
    # MDAnalysis knows only *.data and reads atom_style full unless told: "Failed to parse atoms section"
    from reference import random_mixture

    from mda_glassml.frames import Frame
    from mda_glassml.metrics import b_neighbor_metrics

    side = float(np.sqrt(300 / 1.2))
    pos, names = random_mixture(300, side, 0)
    pos = np.mod(pos, side)
    _lammps_data(tmp_path / name, pos, names, side)
    out = tmp_path / "m.csv"
    assert main(["metrics", str(tmp_path / name), "--a-type", "1", "--b-type", "2", "--out", str(out), "--quiet"]) == 0
    row = read_csv(out)[0]
    expected = b_neighbor_metrics(Frame.from_arrays(pos, names, box=[side, side]))
    assert (int(row["n_components"]), int(row["n_bb_edges"])) == (expected.n_components, expected.n_bb_edges)


def test_a_gsd_file_named_data_dot_something_is_still_a_gsd_file(tmp_path):
    # LAMMPS names data files data.NAME; data.gsd is MDAnalysis' own GSD format, not one of those
    import shutil

    path = tmp_path / "data.gsd"
    shutil.copy(EXAMPLE_TRAJECTORY, path)
    out = tmp_path / "m.csv"
    assert main(["metrics", str(path), "--stop", "2", "--out", str(out), "--quiet"]) == 0
    assert len(read_csv(out)) == 2


def test_a_dump_without_z_says_to_dump_three_columns(tmp_path, capsys):
    dump = tmp_path / "xy.lammpstrj"
    dump.write_text("ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n-0.5 0.5\n"
                    "ITEM: ATOMS id type x y\n1 1 1.0 1.0\n2 2 2.0 2.0\n")
    assert main(["metrics", str(dump), "--a-type", "1", "--b-type", "2"]) == 2
    assert "dump custom ... id type x y z" in capsys.readouterr().err


def test_csv_cells_carry_no_arithmetic_noise(tmp_path):
    # the bundled run logs its set points as 2 - 1.95 k / 200 in float64 (0.5375000000000001)
    from mda_glassml.cli.common import cell as _cell
    from mda_glassml.trajectory import logged_temperature

    out = tmp_path / "m.csv"
    assert main(["metrics", "--start", "15", "--out", str(out), "--quiet"]) == 0
    rows = read_csv(out)
    assert [r["temperature"] for r in rows] == ["0.5375", "0.44", "0.3425", "0.245", "0.1475", "0.05"]
    import MDAnalysis as mda

    logged = logged_temperature(mda.Universe(EXAMPLE_TRAJECTORY))[15:]
    np.testing.assert_allclose([float(r["temperature"]) for r in rows], logged, rtol=1e-12)
    assert rows[0]["bb_edges_per_particle"] == f"{int(rows[0]['n_bb_edges']) / 4320:.12g}"
    assert (_cell(np.float32(0.1)), _cell(np.int64(3)), _cell(1e-300)) == ("0.1", 3, "1e-300")


def test_every_subcommand_is_its_own_module_and_errors_moved_but_still_import():
    # the command is a package, one module per subcommand (add_parser, run); InputError lives in errors.py and
    # is still importable from frames, where it lived until 2026-12-08
    from mda_glassml import cli, errors, frames

    assert list(cli.COMMANDS) == ["classify", "metrics", "rdf", "simulate", "build-datasets", "train", "crossval",
                                  "reproduce"]
    assert all(callable(m.add_parser) and callable(m.run) for m in cli.COMMANDS.values())
    assert frames.InputError is errors.InputError and frames.GlassMLWarning is errors.GlassMLWarning


def test_dask_workers_keep_the_commands_quiet_filters(tmp_path):
    # spawned workers start with fresh warning filters: MDAnalysis' dt note came back from each of them
    out = tmp_path / "m.csv"
    done = subprocess.run([sys.executable, "-m", "mda_glassml.cli", "metrics", "--backend", "dask", "--workers", "2",
                           "--stop", "2", "--quiet", "--out", str(out)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "dt information" not in done.stderr and len(read_csv(out)) == 2
