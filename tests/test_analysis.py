"""MDAnalysis faces: per-frame results equal the core, every backend gives the same bits."""

import MDAnalysis as mda
import numpy as np
import pytest
from conftest import write_gsd
from reference import random_mixture

from mda_glassml.analysis import BNeighborMetrics, PartialRDF
from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.metrics import b_neighbor_metrics
from mda_glassml.rdf import partial_rdfs

pytestmark = pytest.mark.filterwarnings("ignore:Reader has no dt information")


def test_bneighbor_results_equal_the_core_frame_by_frame(random_gsd):
    u = mda.Universe(random_gsd)
    res = BNeighborMetrics(u.atoms, k=3, definition="directed").run(step=2).results
    assert res.frames.tolist() == [0, 2, 4, 6]
    for i, ts in enumerate(u.trajectory[::2]):
        m = b_neighbor_metrics(Frame.from_atomgroup(u.atoms), k=3, definition="directed")
        assert res.n_components[i] == m.n_components
        assert res.n_bb_edges[i] == m.n_bb_edges
        assert res.n_isolated_a[i] == m.n_isolated_a
        assert res.isolated_a_per_particle[i] == pytest.approx(m.n_isolated_a / 300)


@pytest.mark.parametrize("backend", ["multiprocessing", "dask"])
def test_bneighbor_backends_are_bit_identical(random_gsd, backend):
    u = mda.Universe(random_gsd)
    serial = BNeighborMetrics(u.atoms, window=9.0, window_center=(3, 3)).run().results
    parallel = BNeighborMetrics(u.atoms, window=9.0, window_center=(3, 3)).run(backend=backend, n_workers=2).results
    assert set(serial.keys()) == set(parallel.keys())
    for key in serial.keys():
        np.testing.assert_array_equal(serial[key], parallel[key], err_msg=key)
    assert np.all(serial.n_particles < 300)  # the window really cut


@pytest.mark.parametrize("backend", ["multiprocessing", "dask"])
def test_rdf_backends_are_bit_identical(random_gsd, backend):
    u = mda.Universe(random_gsd)
    serial = PartialRDF(u.atoms, r_max=4.0, n_bins=20).run(start=1).results
    parallel = PartialRDF(u.atoms, r_max=4.0, n_bins=20).run(start=1, backend=backend, n_workers=2).results
    np.testing.assert_array_equal(serial.rdf_by_frame, parallel.rdf_by_frame)
    for pair in ("AA", "AB", "BB", "all"):
        np.testing.assert_array_equal(serial.rdf[pair], parallel.rdf[pair])


def test_rdf_is_the_mean_of_the_frames(random_gsd):
    u = mda.Universe(random_gsd)
    res = PartialRDF(u.atoms, r_max=4.0, n_bins=20).run(frames=[1, 4]).results
    per_frame = []
    for ts in u.trajectory[[1, 4]]:
        bins, g = partial_rdfs(Frame.from_atomgroup(u.atoms), 4.0, 20)
        per_frame.append(g["AB"])
    np.testing.assert_allclose(res.bins, bins)
    np.testing.assert_allclose(res.rdf.AB, np.mean(per_frame, axis=0))
    assert res.rdf["AB"] is res.rdf.AB


def test_interrdf_gives_zeros_in_2d_but_ours_does_not(random_gsd):
    from MDAnalysis.analysis.rdf import InterRDF

    u = mda.Universe(random_gsd)
    a, b = u.select_atoms("type A"), u.select_atoms("type B")
    theirs = InterRDF(a, b, range=(0, 4), nbins=20).run(stop=2).results.rdf
    ours = PartialRDF(u.atoms, r_max=4.0, n_bins=20).run(stop=2).results.rdf.AB
    assert not np.any(theirs)
    assert ours[-5:].mean() == pytest.approx(1, abs=0.15)


def test_lammps_dump_with_numeric_types(tmp_path, random_gsd):
    # A LAMMPS "atom" dump (scaled coordinates, types 1/2), read by MDAnalysis.
    u = mda.Universe(random_gsd)
    lines = []
    for ts in u.trajectory[:3]:
        side = ts.dimensions[0]
        lines += ["ITEM: TIMESTEP", str(ts.frame * 1000), "ITEM: NUMBER OF ATOMS", str(u.atoms.n_atoms),
                  "ITEM: BOX BOUNDS pp pp pp", f"0 {side}", f"0 {side}", "-0.5 0.5", "ITEM: ATOMS id type xs ys zs"]
        scaled = (u.atoms.positions[:, :2] % side) / side
        for i, (t, (x, y)) in enumerate(zip(u.atoms.types, scaled)):
            lines.append(f"{i + 1} {1 if t == 'A' else 2} {x:.7f} {y:.7f} 0.5")
    dump = tmp_path / "run.lammpstrj"
    dump.write_text("\n".join(lines) + "\n")
    lmp = mda.Universe(str(dump), format="LAMMPSDUMP", topology_format="LAMMPSDUMP")
    assert sorted(set(lmp.atoms.types)) == ["1", "2"]
    with pytest.raises(InputError, match="'1', '2'"):
        BNeighborMetrics(lmp.atoms)
    from_dump = BNeighborMetrics(lmp.atoms, a_type="1", b_type="2").run().results
    from_gsd = BNeighborMetrics(u.atoms).run(stop=3).results
    np.testing.assert_array_equal(from_dump.n_components, from_gsd.n_components)
    np.testing.assert_array_equal(from_dump.n_bb_edges, from_gsd.n_bb_edges)


def test_faces_refuse_bad_input_before_running(random_gsd):
    u = mda.Universe(random_gsd)
    with pytest.raises(InputError, match="k=300"):
        BNeighborMetrics(u.atoms, k=300)
    with pytest.raises(InputError, match="definition"):
        BNeighborMetrics(u.atoms, definition="other")
    with pytest.raises(InputError, match="window side"):
        BNeighborMetrics(u.atoms, window=100.0)
    with pytest.raises(InputError, match="half the box"):
        PartialRDF(u.atoms, r_max=10.0)
    with pytest.raises(InputError, match="empty"):
        PartialRDF(u.select_atoms("type Q"))


def test_a_misspelt_keyword_is_refused_not_ignored(random_gsd):
    u = mda.Universe(random_gsd)
    with pytest.raises(InputError, match="'kk' \\(did you mean 'k'\\?\\); its keywords are k, a_type"):
        BNeighborMetrics(u.atoms, kk=3)
    with pytest.raises(InputError, match="'rmax' \\(did you mean 'r_max'\\?\\)"):
        PartialRDF(u.atoms, rmax=3.0)
    assert BNeighborMetrics(u.atoms, verbose=False, k=3).k == 3


@pytest.mark.parametrize("backend", ["serial", "multiprocessing"])
def test_an_error_in_a_later_frame_names_that_frame(tmp_path, backend):
    pos, names = random_mixture(300, 15.0, 0)
    crowded = pos * 0.3  # frame 2: every particle in one corner, none in the window
    path = write_gsd(tmp_path / "t.gsd", [(pos, names, 15.0), (pos, names, 15.0), (crowded, names, 15.0)])
    u = mda.Universe(path)
    analysis = BNeighborMetrics(u.atoms, k=2, window=3.0, window_center=(4.0, 4.0))  # frame 0 is fine
    kwargs = {} if backend == "serial" else dict(backend=backend, n_workers=2)
    with pytest.raises(InputError, match=r"frame 2\b") as err:
        analysis.run(**kwargs)
    assert str(err.value).count("frame 2") == 1


def test_a_changing_particle_count_is_one_clear_error(tmp_path):
    frames = [random_mixture(n, 15.0, 0) + (15.0,) for n in (300, 310)]
    u = mda.Universe(write_gsd(tmp_path / "n.gsd", frames))
    with pytest.raises(InputError, match="particle count changes .* Frame 1 has 310 atoms .* Frame.from_gsd"):
        BNeighborMetrics(u.atoms).run()


@pytest.mark.parametrize("kwargs, message", [
    (dict(step=0), "step must not be 0"),
    (dict(start=5, stop=2), "select no frames of this 8-frame trajectory"),
    (dict(start=20), "select no frames"),
    (dict(start=1.5), "start must be a whole number"),
    (dict(frames=[0, 8]), "frame 8 is not in this 8-frame trajectory"),
    (dict(frames=[]), "selects no frames"),
    (dict(frames=[True, False]), "one entry per frame"),
    (dict(frames=[0.5]), "frame indices"),
    (dict(backend="multiprocessing", n_workers=0), "n_workers must be at least 1"),
    (dict(n_workers=2), "with the serial backend"),  # MDAnalysis 2.11 would give frames [6 7 6 7]
    (dict(step=5, n_parts=2, backend="serial"), "with the serial backend"),
    (dict(stop=-100, step=-1), "select no frames"),
    (dict(frames=[[0, 1]]), "got shape"),
    (dict(frames=[0], step=2), "not both"),
])
def test_a_bad_frame_selection_is_refused_before_any_frame_is_read(random_gsd, kwargs, message, monkeypatch):
    def read(self):
        raise AssertionError("a frame was read before the selection was checked")

    u = mda.Universe(random_gsd)
    for analysis in (BNeighborMetrics(u.atoms), PartialRDF(u.atoms, r_max=4.0)):
        monkeypatch.setattr(type(analysis), "_single_frame", read)
        with pytest.raises(InputError, match=message):
            analysis.run(**kwargs)


def test_good_selections_still_run(random_gsd):
    u = mda.Universe(random_gsd)
    assert BNeighborMetrics(u.atoms).run(step=-3).results.frames.tolist() == [7, 4, 1]
    assert BNeighborMetrics(u.atoms).run(start=-100, step=-1).results.frames.tolist() == [0]  # MDAnalysis' rule
    assert BNeighborMetrics(u.atoms).run(frames=range(2, 8, 3)).results.frames.tolist() == [2, 5]
    two = np.int64(2)
    par = BNeighborMetrics(u.atoms).run(step=two, backend="multiprocessing", n_workers=two).results
    assert par.frames.tolist() == [0, 2, 4, 6]
    assert BNeighborMetrics(u.atoms).run(frames=[-1, 0]).results.frames.tolist() == [7, 0]
    mask = np.zeros(8, dtype=bool)
    mask[[2, 5]] = True
    assert BNeighborMetrics(u.atoms).run(frames=mask).results.frames.tolist() == [2, 5]


def test_example_glass_has_a_sharper_first_peak(example_universe):
    u = example_universe
    liquid = PartialRDF(u.atoms, r_max=4.0, n_bins=160).run(stop=1).results.rdf
    glass = PartialRDF(u.atoms, r_max=4.0, n_bins=160).run(start=-1).results.rdf
    assert glass.AA.max() > liquid.AA.max() * 1.3
    assert glass.all[-20:].mean() == pytest.approx(1, abs=0.05)


def test_example_metrics_fall_with_temperature(example_universe):
    from mda_glassml.trajectory import logged_temperature

    u = example_universe
    res = BNeighborMetrics(u.atoms).run().results
    temperature = logged_temperature(u)
    assert temperature[0] == pytest.approx(1.99025) and temperature[-1] == pytest.approx(0.05)
    # Thermal frames: over the whole cooling run every count falls clearly (Figure 10's trend).
    for key in ("n_components", "n_bb_edges", "n_isolated_a"):
        values = res[key].astype(float)
        hot, cold = values[:4].mean(), values[-4:].mean()
        assert cold < 0.5 * hot, key
        rho = np.corrcoef(temperature, values)[0, 1]
        assert rho > 0.8, (key, rho)


def test_a_chain_of_files_logs_each_files_temperatures():
    # mda.Universe(top, [a.gsd, b.gsd]) reads a ChainReader: the temperatures are each file's in turn, and a
    # classifier run past the first file's end reads the second's (it indexed the first file's before).
    import MDAnalysis as mda

    from mda_glassml.analysis import GlassClassifier
    from mda_glassml.data import EXAMPLE_TRAJECTORY
    from mda_glassml.trajectory import logged_temperature

    u = mda.Universe(EXAMPLE_TRAJECTORY, [EXAMPLE_TRAJECTORY, EXAMPLE_TRAJECTORY])
    t = logged_temperature(u)
    assert t.shape == (42,) and t[20] == pytest.approx(0.05) and t[21] == pytest.approx(1.99025)
    p = GlassClassifier(u.atoms).run(start=20, stop=22).results.probability
    assert p[0] > 0.5 > p[1]  # the T = 0.05 glass, then the next file's T = 1.99 liquid


def test_an_rdf_of_a_region_warns_that_its_density_is_the_whole_box(example_universe):
    with pytest.warns(UserWarning, match="leaves out 2161 of the trajectory's A/B particles"):
        region = PartialRDF(example_universe.select_atoms("prop x < 0"), r_max=5.0, n_bins=50).run(start=-1)
    assert region.results.rdf.all[-5:].mean() > 1.3  # what the warning is about: not 1 at large r
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PartialRDF(example_universe.atoms, r_max=5.0, n_bins=50)


def test_an_error_that_names_no_frame_gets_the_frame_it_came_from(random_gsd, monkeypatch):
    import mda_glassml.analysis.bneighbor as face

    real = face.b_neighbor_metrics

    def fails_on_frame_5(frame, *args, **kwargs):
        if frame.index == 5:
            raise InputError("something about this frame is wrong.")
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(face, "b_neighbor_metrics", fails_on_frame_5)
    with pytest.raises(InputError, match="^frame 5: something about this frame is wrong.$"):
        BNeighborMetrics(mda.Universe(random_gsd).atoms).run()


def test_metrics_figure_takes_an_analysis_results_and_names_missing_columns():
    from mda_glassml.plots import metrics_figure

    u = mda.Universe(EXAMPLE_TRAJECTORY)
    res = BNeighborMetrics(u.atoms).run(step=10).results  # MDAnalysis calls the frame column "frames"
    assert len(metrics_figure(res).axes) == 3
    with pytest.raises(InputError, match="needs the columns 'temperature'"):
        metrics_figure(res, x="temperature")


@pytest.mark.parametrize("lo, warns", [(-7.5, True), (0.0, False)])
def test_a_scaled_lammps_dump_off_the_origin_warns_before_a_window(tmp_path, lo, warns):
    # MDAnalysis 2.11 reads xs ys as xs L - xlo: a window centre in the box's coordinates lands elsewhere
    import warnings

    from mda_glassml.errors import GlassMLWarning

    side = float(np.sqrt(300 / 1.2))
    pos, names = random_mixture(300, side, 0)
    scaled = np.mod(pos, side) / side
    types = np.where(np.asarray(names) == "A", 1, 2)
    rows = "".join(f"{i + 1} {t} {x:.8f} {y:.8f} 0.5\n" for i, (t, (x, y)) in enumerate(zip(types, scaled)))
    path = tmp_path / "atom.lammpstrj"
    path.write_text(f"ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n300\nITEM: BOX BOUNDS pp pp pp\n{lo} {lo + side}\n"
                    f"{lo} {lo + side}\n-0.5 0.5\nITEM: ATOMS id type xs ys zs\n{rows}")
    u = mda.Universe(str(path), format="LAMMPSDUMP", topology_format="LAMMPSDUMP")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", GlassMLWarning)
        BNeighborMetrics(u.atoms, a_type="1", b_type="2", window=8.0)
        BNeighborMetrics(u.atoms, a_type="1", b_type="2")  # whole frames: nothing to say
    said = [w for w in record if "scaled coordinates" in str(w.message)]
    assert len(said) == (1 if warns else 0)


def test_a_parallel_run_in_a_script_without_a_main_guard_is_told_to_add_one(tmp_path):
    # dask's process scheduler spawns its workers; each imported the script, ran the analysis again and died,
    # and the caller got "A process in the process pool was terminated abruptly"
    import subprocess
    import sys

    script = tmp_path / "analysis_script.py"
    script.write_text("import MDAnalysis as mda\nfrom mda_glassml.analysis import BNeighborMetrics\n"
                      "from mda_glassml.data import EXAMPLE_TRAJECTORY\n"
                      "BNeighborMetrics(mda.Universe(EXAMPLE_TRAJECTORY).atoms).run(backend='dask', n_workers=2, "
                      "stop=2)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("mda_glassml.errors.InputError") and 'if __name__ == "__main__":' in last


def test_a_worker_that_dies_of_something_else_keeps_its_own_error(tmp_path):
    # a guarded script whose worker is killed (as by the OOM killer): no advice to add the guard it has
    import subprocess
    import sys

    script = tmp_path / "guarded_script.py"
    script.write_text(
        "import multiprocessing, os, signal\nimport MDAnalysis as mda\n"
        "from mda_glassml.analysis import BNeighborMetrics\nfrom mda_glassml.data import EXAMPLE_TRAJECTORY\n\n"
        "class Dies(BNeighborMetrics):\n    def _single_frame(self):\n"
        "        if multiprocessing.parent_process() is not None:\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n        return super()._single_frame()\n\n"
        "if __name__ == '__main__':\n"
        "    Dies(mda.Universe(EXAMPLE_TRAJECTORY).atoms).run(backend='dask', n_workers=2, stop=2)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode != 0
    assert "BrokenProcessPool" in done.stderr and "InputError" not in done.stderr
