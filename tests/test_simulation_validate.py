"""The CI-scale physics check, and its outputs read by MDAnalysis, freud and the dataset builder."""

import csv
import json

import numpy as np
import pytest

from mda_glassml.errors import InputError
from mda_glassml.simulation import FAST_STEPS, CoolingProtocol

lammps_engine = pytest.importorskip("mda_glassml.simulation.lammps")
if not lammps_engine.lammps_available():
    pytest.skip('LAMMPS cannot be loaded (pip install "mda-glassml[lammps]")', allow_module_level=True)
pytest.importorskip("dask.distributed")
gsd_hoomd = pytest.importorskip("gsd.hoomd")

from mda_glassml.simulation import validate  # noqa: E402
from mda_glassml.simulation.campaign import Campaign, run_campaign  # noqa: E402
from mda_glassml.simulation.datasets import (  # noqa: E402
    DATASET_LIQUID_RECORDS,
    build_datasets,
    build_tg_datasets,
    read_manifest,
)


@pytest.fixture(scope="module")
def cooling(tmp_path_factory):
    d = tmp_path_factory.mktemp("cooling")
    status = validate.main(["--quick", "--out", str(d), "--quiet"])
    return d, status


@pytest.fixture(scope="module")
def liquids(tmp_path_factory):
    d = tmp_path_factory.mktemp("liquids")
    protocol = CoolingProtocol.hold(0.547, 4000, melt_steps=1000, n_records=2, n_particles=256)
    run_campaign(d, protocol, 3, campaign_seed=9, progress=False)
    return d


def test_quick_validation_passes_trend_checks(cooling):
    folder, status = cooling
    result = json.loads((folder / "validation.json").read_text())
    assert status == 0 and result["passed"], result["checks"]
    assert set(result["checks"]) == {"IS energy falls with T", "IS energy flattens below Tg",
                                     "glass A-A peak higher than liquid's"}
    assert result["mean_is_energy"][-1] < result["mean_is_energy"][0]
    assert (folder / "tg.png").stat().st_size > 0


def test_outputs_load_in_mdanalysis_and_freud(cooling):
    import freud
    import MDAnalysis as mda

    from mda_glassml.frames import Frame
    from mda_glassml.trajectory import logged_temperature

    folder, _ = cooling
    campaign = Campaign.open(folder)
    thermal, inherent, _ = campaign.paths(0)
    for path in (thermal, inherent):
        u = mda.Universe(str(path))
        assert u.atoms.n_atoms == 256 and u.trajectory.n_frames == len(campaign.records)
        np.testing.assert_allclose(logged_temperature(u),
                                   campaign.protocol.record_temperatures()[list(campaign.records)])
        u.trajectory[-1]
        frame = Frame.from_atomgroup(u.atoms)
        assert frame.n_b == campaign.protocol.n_b
        rdf = freud.density.RDF(bins=50, r_max=3.0)
        rdf.compute((frame.box, frame.points3d))
        assert rdf.rdf.max() > 1.5


def test_builder_reads_campaigns(cooling, liquids, tmp_path):
    folder, _ = cooling
    summary = build_datasets(tmp_path, cooling=folder, liquids=liquids, sigmas=1e6)
    assert sorted(summary["datasets"]) == sorted([f"dataset{d}{s}" for d in range(1, 7) for s in ("", "_is")])
    temps = CoolingProtocol().record_temperatures()
    for d in range(1, 7):
        for suffix in ("", "_is"):
            rows = read_manifest(tmp_path / f"dataset{d}{suffix}.csv")
            assert sorted(r.label for r in rows) == [0, 0, 0, 1, 1, 1]
            for r in rows:
                assert r.file.endswith("_is.gsd") == (suffix == "_is")
                with gsd_hoomd.open(r.file) as traj:
                    log = traj[r.frame].log
                assert log["mda_glassml/temperature"][0] == pytest.approx(r.temperature)
                if suffix == "_is":
                    assert log["mda_glassml/is_energy"][0] == pytest.approx(r.is_energy)
            liquid_t = {r.temperature for r in rows if r.label == 0}
            assert liquid_t == ({temps[DATASET_LIQUID_RECORDS[d]]} if d <= 5 else {0.547})
            if d <= 5:  # each run gives one liquid and one glass: the grouping column says which
                groups = {}
                for r in rows:
                    groups.setdefault(r.trajectory, []).append(r.label)
                assert all(sorted(v) == [0, 1] for v in groups.values())
    with open(tmp_path / "dataset1.csv") as fh:
        assert next(csv.reader(fh)) == ["file", "frame", "label", "temperature", "is_energy", "trajectory"]
    match = summary["dataset6_energy_match"]
    assert match["n_liquids"] == 3 and match["n_glasses"] == 3 and match["agrees"]
    # datasets.json says which cooling made datasets 1-5 (and dataset 6's glasses).
    saved = json.loads((tmp_path / "datasets.json").read_text())
    campaign = Campaign.open(folder)
    assert saved["cooling"]["n_steps"] == campaign.protocol.n_steps and saved["cooling"]["engine"] == campaign.engine
    assert saved["cooling"]["rate"] in ("fast", "slow", "other") and saved["dataset6_glass_cooling"] == saved["cooling"]


def test_dataset6_refused_when_energies_differ(cooling, liquids, tmp_path):
    folder, _ = cooling
    with pytest.raises(InputError, match="not energy-matched.*liquids .* glasses"):
        build_datasets(tmp_path, cooling=folder, liquids=liquids, datasets=[6], sigmas=0.0)
    assert not list(tmp_path.glob("dataset6*"))


def test_builder_names_missing_records(liquids, tmp_path):
    with pytest.raises(InputError, match="not a cooling campaign"):
        build_datasets(tmp_path / "out", cooling=liquids)
    c = tmp_path / "c"
    run_campaign(c, CoolingProtocol(n_particles=64, n_steps=200, n_records=200), 1, records=[1, 200],
                 progress=False)
    with pytest.raises(InputError, match=r"k = 25 .*--records datasets"):
        build_datasets(tmp_path / "out", cooling=c)
    with pytest.raises(InputError, match="numbered 1 to 6"):
        build_datasets(tmp_path / "out", cooling=c, datasets=[7])


@pytest.fixture(scope="module")
def hot_liquids(tmp_path_factory):
    """Liquids held above the quick campaign's Tg (about 0.8: 256 particles cooled in 2e4 steps)."""
    d = tmp_path_factory.mktemp("hot_liquids")
    run_campaign(d, CoolingProtocol.hold(1.2, 2000, melt_steps=500, n_records=2, n_particles=256), 2,
                 campaign_seed=10, progress=False)
    return d


def test_tg_labels_from_the_campaigns_own_fit(cooling, hot_liquids, tmp_path):
    from mda_glassml.simulation.tg import campaign_is_energies, fit_tg

    folder, _ = cooling
    summary = build_tg_datasets(tmp_path, cooling=folder, liquids=[hot_liquids], delta=0.05)
    t, e = campaign_is_energies(folder)
    assert summary["tg"] == pytest.approx(fit_tg(t, e, t_max=1.0).tg) and summary["tg_fitted"]
    campaign = Campaign.open(folder)
    temps = campaign.protocol.record_temperatures()[list(campaign.records)]
    thermal, inherent = read_manifest(tmp_path / "tg_thermal.csv"), read_manifest(tmp_path / "tg_thermal_is.csv")
    band = read_manifest(tmp_path / "tg_band.csv")
    # every record of every run lands once: labelled, or in the band
    n_runs = len(campaign.complete_runs())
    assert len([r for r in thermal if "liquids" not in r.trajectory]) + len(band) == n_runs * temps.size
    lo, hi = summary["tg"] - 0.05, summary["tg"] + 0.05
    for r in thermal:
        assert (r.label == 1 and r.temperature < lo) or (r.label == 0 and r.temperature > hi)
    assert all(lo <= r.temperature <= hi for r in band)
    # each hold run: record 0, the T = 2 melt, then its records held at 1.2
    assert {r.temperature for r in thermal if "liquids" in r.trajectory} == {2.0, 1.2}
    # the inherent-structure manifest is the same configurations, minimised
    assert [(r.trajectory, r.frame, r.label) for r in thermal] == [(r.trajectory, r.frame, r.label) for r in inherent]
    assert all(r.file.endswith("_is.gsd") for r in inherent) and not any(r.file.endswith("_is.gsd") for r in thermal)
    assert summary["n_glass"] == sum(r.label for r in thermal) > 0 and summary["n_liquid"] > 0
    saved = json.loads((tmp_path / "tg_datasets.json").read_text())
    assert saved["delta"] == 0.05 and saved["liquids"][0]["hold_temperature"] == 1.2


def test_tg_labels_take_the_runs_once(cooling, tmp_path, monkeypatch):
    """A campaign still adding runs (a later check finds one more) gives manifests of one set of runs.

    Checking the runs once per build also keeps the build linear in runs: each check reads every frame
    of both files of every run (it was once per record and view: 80 s for 4 runs of 201 records).
    """
    folder, _ = cooling
    real = Campaign.complete_runs
    calls = []

    def growing(self):
        calls.append(self.folder)
        runs = real(self)
        return runs[:-1] if len(calls) == 1 else runs  # the first check misses the run being finished

    monkeypatch.setattr(Campaign, "complete_runs", growing)
    build_tg_datasets(tmp_path, cooling=folder, tg=0.4)
    thermal, inherent = read_manifest(tmp_path / "tg_thermal.csv"), read_manifest(tmp_path / "tg_thermal_is.csv")
    assert [(r.trajectory, r.frame) for r in thermal] == [(r.trajectory, r.frame) for r in inherent]
    records = len(Campaign.open(folder).records)
    band = read_manifest(tmp_path / "tg_band.csv")
    assert len(thermal) + len(band) == (len(real(Campaign.open(folder))) - 1) * records
    assert len(calls) == 1


def test_tg_labels_bad_input(cooling, liquids, tmp_path):
    folder, _ = cooling
    with pytest.raises(InputError, match="not above Tg"):
        build_tg_datasets(tmp_path, cooling=folder, liquids=[liquids], tg=0.6, delta=0.05)
    with pytest.raises(InputError, match="only one class"):
        build_tg_datasets(tmp_path, cooling=folder, tg=3.0)
    with pytest.raises(InputError, match="delta"):
        build_tg_datasets(tmp_path, cooling=folder, delta=-1)
    with pytest.raises(InputError, match="hold campaign"):
        build_tg_datasets(tmp_path, cooling=liquids)


@pytest.fixture(scope="module")
def small_cooling(cooling, tmp_path_factory):
    """The quick campaign grown to six runs (records on both sides of its Tg), for the shipped models' recipe."""
    import shutil

    d = tmp_path_factory.mktemp("small") / "small_cooling"
    shutil.copytree(cooling[0], d)
    c = Campaign.open(d)
    run_campaign(d, c.protocol, 6, records=c.records, campaign_seed=c.campaign_seed, progress=False)
    return d


def test_shipped_models_recipe_end_to_end(small_cooling, hot_liquids, tmp_path):
    from mda_glassml.training.recipes import heldout_sets, main, score_on_heldout
    from mda_glassml.models.pretrained import load_model

    out = tmp_path / "out"
    assert main(["--cooling", str(small_cooling), "--liquids", str(hot_liquids), "--out", str(out), "--work",
                 str(tmp_path / "work"), "--epochs-scale", "0.1", "--heldout-fraction", "0.34", "--split", "0.6,0.2,0.2", "--quiet"]) == 0
    for name in ("ka2d-dmpnn", "ka2d-cnn"):
        card = load_model(out / "models" / f"{name}.pt").card
        side = json.loads((out / "models" / f"{name}.json").read_text())
        assert card["card_version"] == side["card_version"] == 2
        # no machine paths anywhere in the card: campaign names and commands only
        text = json.dumps(card)
        assert str(tmp_path) not in text and str(small_cooling) not in text
        assert any(c.startswith(f"mda-glassml simulate --out {small_cooling.name} --n-trajectories 6")
                   for c in card["recipe"]["commands"])
        # the command remakes this campaign, not one of the defaults' size (it lacked --particles)
        import shlex

        from mda_glassml.cli import _parser

        cmd = next(c for c in card["recipe"]["commands"] if c.startswith(f"mda-glassml simulate --out {small_cooling.name}"))
        args, protocol = _parser().parse_args(shlex.split(cmd)[1:]), Campaign.open(small_cooling).protocol
        assert args.particles == protocol.n_particles and (args.steps or FAST_STEPS) == protocol.n_steps
        assert args.density == protocol.density
        held = set(card["heldout_trajectories"])
        assert len([g for g in held if g.startswith(small_cooling.name)]) == 2  # 0.34 of 6 runs, by campaign
        # every held-out set: the model's scores, calibration and the three baselines beside them
        sets = card["heldout"]["sets"]
        assert {"tg_thermal", "tg_is", "dataset1", "dataset1_is"} <= set(sets)
        assert set(sets["tg_is"]["baselines"]) == {"bb_edges", "vibration", "is_energy"}
        assert all(0 <= s["ece"] <= 1 and 0 <= s["brier"] <= 1 for s in sets.values())
        crossing = card["heldout"]["crossing"]
        assert crossing["tg"] == card["labels"]["tg"] and crossing["thermal"]["n_runs"] == 2
        assert (out / "models" / f"{name}_reliability.png").stat().st_size > 5000
        assert (out / "models" / f"{name}_crossing.png").stat().st_size > 5000
        assert "calibration" in card and card["labels"]["delta"] == 0.05
    # every held-out configuration is in the work folder; beside the models, those of --bundle-runs (2)
    # held-out cooling runs, and the card's scores on them are what the shipped model gives
    everything = heldout_sets(tmp_path / "work" / "heldout" / "ka2d_heldout.gsd",
                              tmp_path / "work" / "heldout" / "ka2d_heldout.csv")
    assert set(np.concatenate([d.groups for d in everything.values()])) <= held
    assert len(everything["tg_thermal"]) == sets["tg_thermal"]["n"]
    written = heldout_sets(out / "heldout" / "ka2d_heldout.gsd", out / "heldout" / "ka2d_heldout.csv")
    runs = set(np.concatenate([d.groups for d in written.values()]))
    assert runs == set(card["heldout_shipped"]["trajectories"]) and len(runs) == 2 and runs <= held
    assert "tg_band" not in written
    assert len(written["tg_thermal"]) == np.isin(everything["tg_thermal"].groups, list(runs)).sum()
    for name in ("ka2d-dmpnn", "ka2d-cnn"):
        bundle = load_model(out / "models" / f"{name}.pt")
        measured = score_on_heldout(bundle, written)
        for ds, score in bundle.card["heldout_shipped"]["sets"].items():
            assert measured[ds]["n"] == score["n"]
            assert measured[ds]["auc"] == pytest.approx(score["auc"], abs=1e-6, nan_ok=True), ds


def test_remake_commands_carry_a_campaigns_density(tmp_path):
    # a campaign at another density: the card's simulate line must remake it (it named no --density before)
    import shlex

    from mda_glassml.cli import _parser
    from mda_glassml.simulation.datasets import _cooling_record
    from mda_glassml.training.recipes import _engine_options

    protocol = CoolingProtocol(n_particles=256, density=1.1, n_steps=2000, n_records=200)
    run_campaign(tmp_path / "c", protocol, 1, records=[1, 200], campaign_seed=3, progress=False)
    record = _cooling_record(Campaign.open(tmp_path / "c"))
    assert record["density"] == 1.1
    cmd = f"mda-glassml simulate --out c --n-trajectories 1 {_engine_options(record)}--seed 3"
    args = _parser().parse_args(shlex.split(cmd)[1:])
    assert (args.particles, args.density, args.steps) == (256, 1.1, 2000)
