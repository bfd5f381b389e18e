"""The shipped models: they load by name, and still reach the held-out scores their cards record."""

import json

import numpy as np
import pytest
import torch

from mda_glassml.training.recipes import heldout_files, heldout_sets, score_on_heldout
from mda_glassml.models.pretrained import available_models, load_model

_SETS = {}


def sets_for(card):
    """The packaged held-out set a card's scores refer to (the paper recipe's or the tg recipe's sample)."""
    files = heldout_files(card.get("card_version", 1))
    if files not in _SETS:
        torch.set_num_threads(1)
        _SETS[files] = heldout_sets(*files)
    return _SETS[files]


def strings(x):
    if isinstance(x, dict):
        return [s for v in x.values() for s in strings(v)]
    if isinstance(x, list):
        return [s for v in x for s in strings(v)]
    return [x] if isinstance(x, str) else []


@pytest.mark.parametrize("name", sorted(available_models()))
def test_shipped_model_reaches_its_recorded_scores(name):
    bundle = load_model(name)
    card = bundle.card
    side = json.loads(available_models()[name].with_suffix(".json").read_text())
    assert card["name"] == side["name"] == name
    sets = sets_for(card)
    if card.get("card_version", 1) >= 2:
        # the tg recipe: the held-out runs shipped beside the models, scored when the model was made
        recorded = card["heldout_shipped"]["sets"]
        assert side["heldout_shipped"] == card["heldout_shipped"]
        runs = {g for d in sets.values() for g in d.groups}
        assert runs == set(card["heldout_shipped"]["trajectories"]) <= set(card["heldout_trajectories"])
        assert {"tg_thermal", "tg_is"} <= set(recorded)
        commands = card["recipe"]["commands"]
    else:
        recorded = card["heldout"]
        assert card["data"]["n_particles"] == 4320 and "not a clean" in side["heldout_note"].lower()
        commands = side["data"]["commands"]
    assert set(recorded) == set(sets)
    measured = score_on_heldout(bundle, sets)
    for dataset, score in recorded.items():
        assert measured[dataset]["n"] == score["n"]
        assert measured[dataset]["auc"] == pytest.approx(score["auc"], abs=1e-6, nan_ok=True), dataset
        # at calibrated P(glass) = 0.5, per view, as classify reports it (raw logits at 0 gave 0.72 on tg_is)
        assert measured[dataset]["accuracy"] == pytest.approx(score["accuracy"], abs=1e-9), dataset
    # no machine paths: campaign names and the commands that remake them
    assert not [v for v in strings(card) + strings(side) if v.startswith("/")]
    assert any(c.startswith("mda-glassml simulate --out ") for c in commands)
    assert any(c.startswith("python -m mda_glassml.training.recipes") for c in commands)
    if card.get("card_version", 1) >= 2:  # the campaigns' size, not simulate's default 4320
        n = card["recipe"]["n_particles"]
        assert all(f"--particles {n} " in c for c in commands if c.startswith("mda-glassml simulate"))


@pytest.mark.parametrize("name", ["ka2d-dmpnn", "ka2d-cnn"])
def test_shipped_models_calibrate_each_view_and_tell_the_views_of_real_frames(name):
    from mda_glassml.classify import Classifier

    clf = Classifier(name)
    views = clf.card["calibration"]["views"]
    assert set(views) == {"thermal", "inherent"} == set(clf.view_calibration)
    assert views["thermal"]["temperature"] != views["inherent"]["temperature"]
    for set_name, data in sets_for(clf.card).items():  # LAMMPS frames of held-out runs, read back from GSD
        expected = "inherent" if set_name.endswith("_is") else "thermal"
        assert set(clf.views(data.frames)) == {expected}, set_name
    for set_name, view in (("tg_thermal", "thermal"), ("tg_is", "inherent")):
        data = sets_for(clf.card)[set_name]
        z = clf.logits(data.frames)
        fit = views[view]
        np.testing.assert_allclose(clf.probabilities(data.frames),
                                   1 / (1 + np.exp(-(z / fit["temperature"] + fit["bias"]))), rtol=1e-9, atol=1e-12)


def test_paper_models_baselines_are_what_the_package_computes():
    # The no-ML baselines recorded beside the paper models: the B-B count is a constant 0 on most
    # held-out inherent structures (AUC 0.5 by ties); the IS energy alone separates datasets 1-5's.
    from mda_glassml.baselines import potential_energy
    from mda_glassml.training.recipes import baseline_scores, is_energy_baseline

    card = load_model("ka2d-dmpnn-paper").card
    sets = sets_for(card)
    base = baseline_scores(sets)
    assert {k: v["auc"] for k, v in base.items()} == pytest.approx(
        {k: v["auc"] for k, v in card["heldout_baseline_bb_edges"].items()})
    measured = is_energy_baseline(sets)
    assert set(measured) == {n for n in sets if n.endswith("_is")}
    assert all(measured[f"dataset{d}_is"]["auc"] == 1.0 for d in range(1, 6))
    for name in ("ka2d-dmpnn-paper", "ka2d-cnn-paper"):
        side = json.loads(available_models()[name].with_suffix(".json").read_text())
        assert {k: v["auc"] for k, v in side["heldout_baseline_is_energy"].items()} == pytest.approx(
            {k: v["auc"] for k, v in measured.items()})
    # In the campaigns' convention (truncated, unshifted LJ): a KA glass's IS energy is about -3.87.
    glass = sets["dataset5_is"].frames[int(sets["dataset5_is"].labels.argmax())]
    assert -3.9 < potential_energy(glass) < -3.85


def test_heldout_trajectories_are_stratified_by_campaign():
    from mda_glassml.training.recipes import heldout_trajectories

    # The paper models' campaigns: 15 cooling runs and 12 liquids; a pooled split may take
    # 5 + 2 or 3 + 4 of them, a stratified one takes 25 % of each.
    groups = [f"fast/traj_{i:04d}" for i in range(15)] + [f"liquids/traj_{i:04d}" for i in range(12)]
    for seed in range(5):
        out = heldout_trajectories(groups * 2, seed=seed)
        assert sum(g.startswith("fast/") for g in out) == 4 and sum(g.startswith("liquids/") for g in out) == 3
    assert heldout_trajectories(groups) == heldout_trajectories(list(reversed(groups)))  # names alone decide


@pytest.mark.parametrize("option", [["--pair-energy"], ["--hidden", "16"], ["--pixels-per-length", "8"], ["--shift"],
                                    ["--consistency", "1"], ["--cnn-width", "2"]])
def test_recipe_studies_are_refused_outside_the_tg_recipe(option):
    from mda_glassml.training.recipes import main

    with pytest.raises(SystemExit, match="applies to the tg recipe"):
        main(["--recipe", "paper", "--cooling", "unused", *option])


def test_consistency_pairs_each_frame_with_its_inherent_structure_and_balances_whole_pairs(ka_dataset1):
    """The --consistency study's training set: the rarer class repeated pair by pair, every thermal frame paired
    with its own inherent structure (standing in here: a copy one index apart), hold runs regrouped with both."""
    from dataclasses import replace

    from mda_glassml.errors import InputError
    from mda_glassml.training.recipes import _balanced_pairs, _pair_holds
    from mda_glassml.training.data import LabelledFrames

    data = LabelledFrames.from_manifest(ka_dataset1)
    keep = np.r_[np.flatnonzero(data.labels == 0), np.flatnonzero(data.labels == 1)[:3]]  # 3 glasses, more liquids
    thermal = data.subset(keep)
    thermal = LabelledFrames(thermal.frames, thermal.labels, [f"cool/{g}" for g in thermal.groups],
                             thermal.temperatures)
    inherent = LabelledFrames([replace(f, positions=f.positions + 0.01) for f in thermal.frames], thermal.labels,
                              thermal.groups, thermal.temperatures)
    both = _pair_holds(_balanced_pairs(thermal, inherent), "cool")
    m = len(both) // 2
    assert np.bincount(both.labels).tolist() == [m, m]
    first, second = np.arange(m), both.partner[:m]
    assert np.all(second == first + m) and np.all(both.partner[second] == first)
    for a, b in zip(first, second):  # a thermal frame and its own inherent structure, whatever the repeats
        np.testing.assert_array_equal(both.frames[b].positions, both.frames[a].positions + 0.01)
    shifted = inherent.subset(np.r_[1:len(inherent), 0])  # one manifest's rows out of step with the other's
    with pytest.raises(InputError, match="do not line up"):
        _balanced_pairs(thermal, shifted)


def test_heldout_files_keep_every_record_of_a_hold_run(ka_dataset1, tmp_path):
    """A hold run keeps several records at one temperature: each is its own configuration in the held-out
    files (they were once merged into the last one), while one configuration in two sets is written once."""
    from dataclasses import replace

    from mda_glassml.training.recipes import _write_heldout, heldout_sets
    from mda_glassml.training.data import LabelledFrames

    data = LabelledFrames.from_manifest(ka_dataset1)
    liquid = np.flatnonzero(data.labels == 0)[:3]
    frames = [replace(data.frames[i], index=k) for k, i in enumerate(liquid)]  # records 0, 1, 2 of one run
    hold = LabelledFrames(frames, [0, 0, 0], ["liquids/traj_0000"] * 3, [0.547] * 3)
    _write_heldout({"tg_thermal": hold, "dataset6": hold.subset([2])}, tmp_path, 2)
    back = heldout_sets(tmp_path / "ka2d_heldout.gsd", tmp_path / "ka2d_heldout.csv")
    assert len(back["tg_thermal"]) == 3 and len(back["dataset6"]) == 1
    written = sorted(back["tg_thermal"].frames, key=lambda g: g.positions[0, 0])  # written in set-name order
    for f, g in zip(sorted(frames, key=lambda f: f.positions[0, 0]), written):
        np.testing.assert_array_equal(f.positions, g.positions)
    np.testing.assert_array_equal(back["dataset6"].frames[0].positions, frames[2].positions)
    import gsd.hoomd

    with gsd.hoomd.open(str(tmp_path / "ka2d_heldout.gsd")) as traj:
        assert len(traj) == 3  # dataset6's configuration is tg_thermal's third, not a copy
