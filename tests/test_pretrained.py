"""The shipped models: they load by name, and still reach their recorded held-out AUCs."""

import json

import pytest
import torch

from mda_glassml.models.make_pretrained import heldout_sets, score_on_heldout
from mda_glassml.models.pretrained import available_models, load_model


@pytest.fixture(scope="module")
def sets():
    torch.set_num_threads(1)
    return heldout_sets()


@pytest.mark.parametrize("name", sorted(available_models()))
def test_shipped_model_reaches_its_recorded_auc(name, sets):
    bundle = load_model(name)
    card = bundle.card
    assert card["name"] == name and card["data"]["n_particles"] == 4320
    recorded = card["heldout"]
    assert set(recorded) == set(sets)  # every dataset 1-6 and its inherent-structure twin
    measured = score_on_heldout(bundle, sets)
    for dataset, score in recorded.items():
        assert measured[dataset]["auc"] == pytest.approx(score["auc"], abs=1e-6), dataset
        assert measured[dataset]["n"] == score["n"]
    # The no-ML baseline recorded beside the model is what the package computes.
    from mda_glassml.models.make_pretrained import baseline_scores

    if name == "ka2d-dmpnn":  # the same for both cards; computed once
        base = baseline_scores(sets)
        assert {k: v["auc"] for k, v in base.items()} == pytest.approx(
            {k: v["auc"] for k, v in card["heldout_baseline_bb_edges"].items()})
    # The card beside the bundle (shown in the docs) says the same.
    side = json.loads(available_models()[name].with_suffix(".json").read_text())
    assert side["heldout"] == recorded and side["hyperparameters"] == card["hyperparameters"]
    assert "not a clean" in side["heldout_note"].lower()
    # no machine paths: campaign names and the commands that remake them
    def strings(x):
        if isinstance(x, dict):
            return [s for v in x.values() for s in strings(v)]
        if isinstance(x, list):
            return [s for v in x for s in strings(v)]
        return [x] if isinstance(x, str) else []

    assert not [v for v in strings(card) + strings(side) if v.startswith("/")]
    assert any(c.startswith("mda-glassml simulate --out fast4320") for c in side["data"]["commands"])


def test_is_energy_baseline_beside_the_bb_count(sets):
    # The B-B count is a constant 0 on most held-out inherent structures (AUC 0.5 by ties); the
    # IS energy alone separates datasets 1-5's inherent structures. Both are recorded in the cards.
    from mda_glassml.baselines import potential_energy
    from mda_glassml.models.make_pretrained import is_energy_baseline

    measured = is_energy_baseline(sets)
    assert set(measured) == {n for n in sets if n.endswith("_is")}
    assert all(measured[f"dataset{d}_is"]["auc"] == 1.0 for d in range(1, 6))
    for name in available_models():
        side = json.loads(available_models()[name].with_suffix(".json").read_text())
        assert {k: v["auc"] for k, v in side["heldout_baseline_is_energy"].items()} == pytest.approx(
            {k: v["auc"] for k, v in measured.items()})
    # In the campaigns' convention (truncated, unshifted LJ): a KA glass's IS energy is about -3.87.
    glass = sets["dataset5_is"].frames[int(sets["dataset5_is"].labels.argmax())]
    assert -3.9 < potential_energy(glass) < -3.85


def test_heldout_trajectories_are_stratified_by_campaign():
    from mda_glassml.models.make_pretrained import heldout_trajectories

    # The shipped models' campaigns: 15 cooling runs and 12 liquids; a pooled split may take
    # 5 + 2 or 3 + 4 of them, a stratified one takes 25 % of each.
    groups = [f"fast/traj_{i:04d}" for i in range(15)] + [f"liquids/traj_{i:04d}" for i in range(12)]
    for seed in range(5):
        out = heldout_trajectories(groups * 2, seed=seed)
        assert sum(g.startswith("fast/") for g in out) == 4 and sum(g.startswith("liquids/") for g in out) == 3
    assert heldout_trajectories(groups) == heldout_trajectories(list(reversed(groups)))  # names alone decide
