"""mda_glassml.reproduce: the experiments on real data, and the smoke preset end to end."""

import json
import shutil
from pathlib import Path

import gsd.hoomd
import numpy as np
import pytest

from mda_glassml.data import EXAMPLE_INHERENT_STRUCTURES, EXAMPLE_TRAJECTORY
from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.reproduce.metrics_vs_t import METRICS, fit_interaction, metrics_vs_temperature
from mda_glassml.reproduce.pipeline import STEPS, Reproduction, check_scheduler, estimate_campaign_seconds
from mda_glassml.reproduce.presets import PRESETS, get_preset
from mda_glassml.simulation.tg import choose_t_max, fit_tg


def _example_curve():
    """The bundled run's whole cooling curve: records k = 0, 10, ..., 200 (T from 2 down)."""
    with gsd.hoomd.open(EXAMPLE_INHERENT_STRUCTURES, "r") as traj:
        e = np.array([float(f.log["mda_glassml/is_energy"][0]) for f in traj])
        t = np.array([float(f.log["mda_glassml/temperature"][0]) for f in traj])
    return t[1:], e[1:]  # record 0 is the minimised lattice, not a liquid


def test_whole_curve_tg_chooses_its_range():
    # a whole mean curve from T = 2 with the hot liquid's bend, the cold regimes meeting at 0.40
    t = np.linspace(0.05, 2.0, 40)
    e = np.where(t < 0.4, -3.87 + 0.01 * (t - 0.4), -3.87 + 0.08 * (t - 0.4)) + np.where(t > 1, 0.12 * (t - 1) ** 2, 0)
    runs = e + np.random.default_rng(7).normal(0, 0.001, (6, t.size))
    whole = fit_tg(t, runs, n_bootstrap=50)
    auto = fit_tg(t, runs, t_max="auto", n_bootstrap=50)
    assert whole.tg > 0.8  # the hot liquid's bend takes the breakpoint
    assert auto.tg == pytest.approx(0.40, abs=0.03) and 1.0 <= auto.t_max < 1.3
    assert auto.t_max == choose_t_max(t, runs)
    with pytest.raises(InputError, match="t_max must be"):
        fit_tg(t, runs, t_max="widest")


def test_auto_range_refuses_a_single_run():
    t, e = _example_curve()  # the bundled run: one trajectory, T from 1.9 down
    assert t.max() > 1.8
    assert fit_tg(t, e, n_bootstrap=0).tg > 0.8  # the 1.2-like failure, on real data
    assert 0.3 < fit_tg(t, e, t_max=1.0, n_bootstrap=0).tg < 0.5
    with pytest.raises(InputError, match="at least 2 trajectories"):
        fit_tg(t, e, t_max="auto")


def test_choose_t_max_refuses_a_curve_it_cannot_fit():
    t = np.linspace(0.05, 2.0, 6)
    with pytest.raises(InputError, match="straight liquid branch"):
        choose_t_max(t, np.exp(-t)[None] + np.zeros((3, 1)))


def test_equation_12_recovers_planted_slopes_and_interaction():
    rng = np.random.default_rng(3)
    t = np.repeat(np.linspace(0.05, 1.2, 24), 8)
    tg = 0.42
    y = 0.2 + 0.03 * t + np.where(t > tg, -0.05 + 0.15 * t, 0.0) + rng.normal(0, 0.002, t.size)
    fit = fit_interaction(t, y, tg)
    assert fit.slope == pytest.approx(0.03, abs=0.005)
    assert fit.interaction == pytest.approx(0.15, abs=0.005)
    assert fit.jump == pytest.approx(-0.05, abs=0.005)
    assert fit.interaction_p < 1e-10 and fit.n == t.size
    np.testing.assert_allclose(fit.predict([0.2, 1.0]), [0.2 + 0.006, 0.2 + 0.03 - 0.05 + 0.15], atol=0.005)
    # no change of slope planted: the interaction is not significant
    flat = fit_interaction(t, 0.2 + 0.03 * t + rng.normal(0, 0.002, t.size), tg)
    assert flat.interaction_p > 0.01
    with pytest.raises(InputError, match="each side of Tg"):
        fit_interaction(t[t < tg], y[t < tg], tg)


def test_metrics_fall_faster_above_tg_on_the_bundled_run():
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY, "r") as traj:
        frames = [Frame.from_gsd(f) for f in traj][1:]
        temps = np.array([float(f.log["mda_glassml/temperature"][0]) for f in traj])[1:]
    res = metrics_vs_temperature(frames, temps, tg=0.41)
    assert set(res.fits) == {"symmetric", "directed"} and set(res.fits["symmetric"]) == set(METRICS)
    bb = res.fits["symmetric"]["bb_edges_per_particle"]
    assert bb.slope + bb.interaction > bb.slope > -1e-3  # steeper in the liquid, as Figure 10
    assert bb.interaction > 0  # one run of 20 frames: the sign as the paper's; its p-value needs more runs
    assert bb.r_squared > 0.9
    json.dumps(res.to_dict())
    res.figure()
    with pytest.raises(InputError, match="one temperature per frame"):
        metrics_vs_temperature(frames, temps[:-1], tg=0.41)


def test_presets_and_plans():
    assert set(PRESETS) == {"smoke", "cpu", "paper"}
    with pytest.raises(InputError, match="unknown preset 'huge'.*smoke, cpu, paper"):
        get_preset("huge")
    paper = get_preset("paper")
    assert paper.campaign("slow").protocol.n_steps == 20_000_000
    assert paper.campaign("fast").n_trajectories == 10_000
    cost = estimate_campaign_seconds(paper)
    assert cost["slow"] > 10 * cost["fast"]  # 100x the steps
    cpu = get_preset("cpu")
    assert cpu.campaign("fast").protocol.n_steps < cpu.campaign("slow").protocol.n_steps < 20_000_000
    assert sum(estimate_campaign_seconds(cpu).values()) < 4 * 3600


def test_paper_dry_run_prints_the_plan(tmp_path, capsys):
    from mda_glassml.cli import main

    assert main(["reproduce", "--preset", "paper", "--out", str(tmp_path / "p"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "10000 runs x N = 4320, 2e+07 steps" in out and "core-hours" in out
    assert not (tmp_path / "p").exists()  # a dry run writes nothing
    import torch

    if not torch.cuda.is_available():  # the training device is checked before any work, in a dry run too
        assert main(["reproduce", "--preset", "smoke", "--out", str(tmp_path / "s"), "--dry-run",
                     "--train-device", "cuda"]) == 2
        assert "asked for a CUDA GPU, but torch finds none" in capsys.readouterr().err


def test_unreachable_scheduler_is_refused_before_any_work(tmp_path):
    with pytest.raises(InputError, match="cannot reach the dask scheduler"):
        check_scheduler("tcp://127.0.0.1:1", timeout=2)
    rep = Reproduction(get_preset("smoke"), tmp_path / "r", scheduler="tcp://127.0.0.1:1", progress=False)
    with pytest.raises(InputError, match="cannot reach"):
        rep.run()
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke") / "repro"
    Reproduction(get_preset("smoke"), out, progress=False).run()
    return out


def _numbers(path):
    """results.json without what differs between runs of the same work (wall times, resume counts)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("wall_time_s", "already_complete")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return strip(json.loads(path.read_text()))


def test_smoke_preset_runs_every_step(smoke):
    for step in STEPS:
        assert (smoke / "steps" / f"{step}.json").is_file()
    results = json.loads((smoke / "results.json").read_text())
    assert str(smoke) not in (smoke / "results.json").read_text()  # paths relative to the folder: it can move
    assert set(results["steps"]["tg"]["rates"]) == {"fast", "slow"}
    assert len([k for k in results["steps"]["datasets"]["datasets"]]) == 12
    # the campaigns' workers are recorded, and the overhead benchmark reads them
    assert results["steps"]["campaigns"]["workers"] == 1
    import subprocess
    import sys

    bench = Path(__file__).parents[1] / "benchmarks" / "bench_reproduce.py"
    printed = subprocess.run([sys.executable, str(bench), str(smoke)], capture_output=True, text=True, check=True)
    assert "x 1 workers" in printed.stdout or "resumed" in printed.stdout
    for fig in ("fig1_is_energy_tg.png", "fig5_15_auc.png", "fig6_cross_dataset.png", "fig7_size.png",
                "fig8_attention_graphs.png", "fig9_attention_metrics_paper.png", "fig10_17_metrics_vs_t.png", "fig11_rdf_dataset1.png",
                "fig12_rdf_dataset6.png", "fig6_cross_dataset_baselines.png", "fig9_attention_variants_paper.png"):
        assert (smoke / "figures" / fig).stat().st_size > 10_000
    summary = (smoke / "summary.rst").read_text()
    assert summary.startswith(".. list-table::") and "AUC dataset 1, dmpnn" in summary and "Tg, slow rate" in summary
    report = (smoke / "report.md").read_text()
    auc = results["steps"]["auc"]["datasets"]
    assert set(auc) == {f"dataset{d}" for d in range(1, 7)}
    for row in auc.values():
        for model in ("dmpnn", "cnn"):
            assert len(row[model]["folds"]) == 3 and 0 <= row[model]["auc"] <= 1
            assert set(row[model]["baselines"]) == {"bb_edges", "vibration", "is_energy"}
    assert auc["dataset1"]["dmpnn"]["window_fraction"] == 0.2 and auc["dataset1"]["cnn"]["window_fraction"] is None
    # T = 1.99 liquids against T = 0.05 glasses: the IS energy alone separates them
    assert auc["dataset1"]["cnn"]["baselines"]["is_energy"]["auc"] == 1.0
    # Figure 6's diagonal is each dataset's own nested-CV AUC (the same fold models on the same test samples)
    for model in ("dmpnn", "cnn"):
        m = results["steps"]["cross_dataset"]["matrices"][model]
        assert np.shape(m["auc"]) == (6, 6)
        np.testing.assert_allclose(np.diag(m["auc"]), [auc[f"dataset{d}"][model]["auc"] for d in range(1, 7)],
                                   atol=1e-12)
    # ... and so is the baselines' diagonal (direction from dataset i's training folds, scored on i's test folds)
    for model in ("dmpnn", "cnn"):
        b = results["steps"]["cross_dataset"]["baselines"][model]
        for name, mat in b["auc"].items():
            assert np.shape(mat) == (6, 6)
            np.testing.assert_allclose(np.diag(mat), [auc[f"dataset{d}"][model]["baselines"][name]["auc"]
                                                      for d in range(1, 7)], atol=1e-12)
    # Figure 7 at the training window is dataset 1's AUC too, its baselines those of Figure 5's windows
    rows = {r["window_fraction"]: r for r in results["steps"]["size"]["sizes"]}
    assert set(rows) == {0.1, 0.2, None}
    assert rows[0.2]["auc"] == pytest.approx(auc["dataset1"]["dmpnn"]["auc"], abs=1e-12)
    assert rows[0.2]["baselines"] == auc["dataset1"]["dmpnn"]["baselines"]
    assert rows[None]["baselines"]["is_energy"] == auc["dataset1"]["cnn"]["baselines"]["is_energy"]
    # the attention variants: one row each, the option recorded, and the report's table
    variants = results["steps"]["attention_variants"]["variants"]
    assert [v["name"] for v in variants] == ["original", "sum readout (eq. 8)"]
    assert variants[1]["options"] == {"readout": "sum"} and all(0 <= v["test_auc"] <= 1 for v in variants)
    assert "What the attention trend hangs on" in report and "No-ML baselines on the same test samples" in report
    ci = results["steps"]["cnn_interpretation"]
    assert ci["n_classified"] == 3 * 3 and 0 <= ci["n_glass"] <= 9 and len(ci["per_fold"]) == 3
    assert (smoke / "figures" / "fig13_cnn_feature_maps.png").stat().st_size > 10_000
    att = results["steps"]["attention"]
    assert att["params"]["k"] == 2 and att["params"]["window"] == 0.1 and att["n_pairs"] > 0
    paper_cut = att["cuts"]["paper"]
    assert paper_cut["cut"] == pytest.approx(0.11)
    assert set(paper_cut["tests"]) == {"n_components", "n_bb_edges", "n_isolated_a"}
    assert all(0 <= t["pvalue"] <= 1 and t["alternative"] == "less" for t in paper_cut["tests"].values())
    assert "error" in att["cuts"]["trough"] or "tests" in att["cuts"]["trough"]
    for text in ("Figure 1", "Figures 5 and 15", "Figure 6", "Figure 7", "Figures 8, 9 and 16", "equation 12", "Figures 11 and 12", "paper Tg", "Figure 13 and appendix D"):
        assert text in report
    # glasses are more ordered than the T = 1.99 liquids: higher first peaks
    peaks = results["steps"]["rdfs"]["datasets"]["dataset1"]["first_peak"]
    assert all(peaks["glass"][p] > peaks["liquid"][p] for p in ("AA", "AB"))


def test_killed_reproduction_resumes_to_the_same_results(smoke, tmp_path):
    before = _numbers(smoke / "results.json")
    copy = tmp_path / "repro"
    shutil.copytree(smoke, copy)
    # a kill mid-campaign: one run unfinished (no completion record, a half-written file), every later step undone
    fast = copy / "campaigns" / "fast"
    (fast / "traj_0002.json").unlink()
    (fast / ".traj_0002.gsd.123.part").write_bytes(b"half")
    for step in STEPS:
        (copy / "steps" / f"{step}.json").unlink()
    shutil.rmtree(copy / "cv" / "dataset3")  # a killed training: its trials and fold models redone
    (copy / "steps" / ".tg.json.99.part").write_text("{")  # a half-written step file is never read
    Reproduction(get_preset("smoke"), copy, progress=False).run()
    after = _numbers(copy / "results.json")
    # the folders differ; everything measured is the same (serial LAMMPS is deterministic)
    assert json.dumps(after["steps"]["tg"]) == json.dumps(before["steps"]["tg"])
    assert after["steps"]["metrics_vs_t"] == before["steps"]["metrics_vs_t"]
    assert after["steps"]["rdfs"] == before["steps"]["rdfs"]
    assert after["steps"]["auc"] == before["steps"]["auc"]
    assert after["steps"]["cross_dataset"] == before["steps"]["cross_dataset"]


def test_an_output_folder_of_another_preset_is_refused(smoke, tmp_path):
    with pytest.raises(InputError, match="holds the results of the 'smoke' preset, not 'cpu'"):
        Reproduction(get_preset("cpu"), smoke, progress=False).run()
    # the dry run refuses it too (it listed every cpu step as done), and writes nothing
    before = sorted(p.name for p in Path(smoke).iterdir())
    with pytest.raises(InputError, match="holds the results of the 'smoke' preset, not 'cpu'"):
        Reproduction(get_preset("cpu"), smoke, progress=False).plan()
    assert sorted(p.name for p in Path(smoke).iterdir()) == before
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a reproduction folder"):
        Reproduction(get_preset("smoke"), tmp_path / "other", progress=False).run()
    with pytest.raises(InputError, match="unknown step"):
        Reproduction(get_preset("smoke"), tmp_path / "x", progress=False).run(stop_after="everything")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="afile is a file, not a folder"):
        Reproduction(get_preset("smoke"), tmp_path / "afile", progress=False).plan()
    (tmp_path / "cut").mkdir()
    for damaged in ('{"name": "smo', "[1]"):
        (tmp_path / "cut" / "preset.json").write_text(damaged)
        with pytest.raises(InputError, match="preset.json is damaged"):
            Reproduction(get_preset("smoke"), tmp_path / "cut", progress=False).plan()


def test_baselines_on_the_outer_test_folds(ka_dataset1):
    from mda_glassml.baselines import neighbour_spread
    from mda_glassml.reproduce.auc import baseline_aucs, manifest_is_energy
    from mda_glassml.training.data import LabelledFrames, outer_folds

    data = LabelledFrames.from_manifest(ka_dataset1)
    energy = manifest_is_energy(ka_dataset1)
    res = baseline_aucs(data, energy, None, n_folds=3, seed=0)
    assert res["is_energy"]["auc"] == 1.0 and len(res["is_energy"]["per_fold"]) == 3
    # the direction comes from the training part: a flipped score gives the same AUC
    assert baseline_aucs(data, -energy, None, n_folds=3, seed=0)["is_energy"]["auc"] == 1.0
    # T = 1.99 against T = 0.05: thermal vibration tells them apart at once
    assert res["vibration"]["auc"] == 1.0
    glass = [f for f, y in zip(data.frames, data.labels) if y == 1]
    liquid = [f for f, y in zip(data.frames, data.labels) if y == 0]
    assert max(map(neighbour_spread, glass)) < min(map(neighbour_spread, liquid))
    # same outer folds as nested_cv's
    assert len(outer_folds(data.groups, 3, seed=0)) == 3
    windowed = baseline_aucs(data, energy, 0.2, n_folds=3, seed=0)
    assert set(windowed) == set(res)
    # several test windows per frame: each window scored with its own frame's IS energy (still separable)
    assert baseline_aucs(data, energy, 0.2, n_folds=3, seed=0, windows_per_frame=3)["is_energy"]["auc"] == 1.0


def test_evaluation_windows_are_the_graph_tasks_test_samples(ka_dataset1):
    from mda_glassml.models.featurize import Featurizer
    from mda_glassml.training.data import LabelledFrames, evaluation_windows
    from mda_glassml.training.tasks import GraphTask

    full = LabelledFrames.from_manifest(ka_dataset1)
    data = full.subset(np.r_[np.flatnonzero(full.labels == 0)[:3], np.flatnonzero(full.labels == 1)[:3]])
    task = GraphTask(Featurizer(k=2), data, None, window=12.0, windows_per_frame=3)
    graphs = task.samples(data, seed=17)
    cut, labels = evaluation_windows(data.frames, data.labels, 12.0, 17, 3)
    assert len(graphs) == len(cut) == 18
    np.testing.assert_array_equal(task.labels(graphs), labels)
    assert [g.num_nodes for g in graphs] == [w.n_particles for w in cut]


def test_single_class_runs_are_paired_into_groups():
    from mda_glassml.reproduce.auc import paired_groups
    from mda_glassml.training.data import LabelledFrames, group_split

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY, "r") as traj:
        frame = Frame.from_gsd(traj[0])
    n = 26
    labels = np.r_[np.zeros(13), np.ones(13)]
    groups = [f"liquids/traj_{i:04d}" for i in range(13)] + [f"fast/traj_{i:04d}" for i in range(13)]
    data = paired_groups(LabelledFrames([frame] * n, labels, groups, np.zeros(n)))
    assert len(set(data.groups)) == 13
    for part in group_split(data.groups, (0.8, 0.1, 0.1), seed=0):
        assert set(data.labels[part]) == {0, 1}  # every split holds both classes
    with pytest.raises(InputError, match="leave split"):
        group_split(data.groups[:5], (0.8, 0.1, 0.1))


def test_five_fold_pictures_follow_appendix_d():
    from mda_glassml.graphs import knn
    from mda_glassml.reproduce.cnn_interpretation import MIN_DISTANCE, five_fold_frame, intact_pentagons

    frame = five_fold_frame(1080, 30.0, np.random.default_rng(0))
    assert frame.n_particles == 1080 and frame.n_b == 378  # the paper's 35 % B, its density 1.2
    _, _, d = knn(frame, 1)
    assert float(np.min(d)) >= MIN_DISTANCE * (1 - 1e-6)  # no two particles closer than 60/90
    assert intact_pentagons(frame) > 0
    again = five_fold_frame(1080, 30.0, np.random.default_rng(0))
    np.testing.assert_array_equal(again.positions, frame.positions)
    # a random mixture at the same density has (almost) no B in an exact A pentagon
    from reference import random_mixture

    pos, names = random_mixture(1080, 30.0, 0)
    assert intact_pentagons(Frame.from_arrays(pos, names, box=[30.0, 30.0])) < intact_pentagons(frame)
    with pytest.raises(InputError, match="too high"):
        five_fold_frame(1080, 10.0, np.random.default_rng(0))


def test_the_variants_figure_lays_out_when_no_variant_has_the_cut():
    import io
    import warnings

    from mda_glassml.reproduce.attention_stats import variants_figure

    rows = [{"name": f"v{i}", "cuts": {"trough": {"error": "one mode"}}} for i in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib: "constrained_layout not applied because axes sizes collapsed"
        variants_figure(rows, "trough").savefig(io.BytesIO(), dpi=110)
