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
