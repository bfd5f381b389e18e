"""``mda-glassml train`` and ``crossval`` on a real tiny dataset, and their errors."""

import json

import numpy as np
import pytest

from mda_glassml.cli import main
from mda_glassml.models.bundle import load_bundle

TINY = ["--hidden", "16", "--depth", "2", "--window", "9", "--batch-size", "8", "--quiet"]


def test_train_writes_bundle_card_and_plot_and_resumes(ka_dataset1, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--manifest", str(ka_dataset1), "--out", str(out), "--epochs", "2",
                 "--windows-per-frame", "4", *TINY]) == 0
    assert "test AUC" not in capsys.readouterr().out  # --quiet
    card = json.loads((out / "card.json").read_text())
    assert card["data"]["n_trajectories"] == 10 and card["hyperparameters"]["hidden"] == 16
    # --window is a length, as for classify; windows train a mean readout by default.
    assert card["input"] == {"window": 9.0, "windows_per_frame": 4, "readout": "mean"}
    assert len(card["training"]["history"]) == 2 and 0 <= card["scores"]["test_auc"] <= 1
    bundle = load_bundle(out / "model.pt")
    assert bundle.card == card and bundle.featurizer.k == 2
    assert (out / "training.png").stat().st_size > 1000
    # P(glass) calibrated on the whole validation frames (a mean-readout window model is applied to
    # whole frames): Platt scaling, a temperature and a bias; the classifier applies both
    cal = card["calibration"]
    assert cal["fitted_on"] == "validation frames" and cal["temperature"] > 0 and np.isfinite(cal["bias"])
    assert cal["fit"]["log_loss_after"] <= cal["fit"]["log_loss_before"] + 1e-12
    assert 0 <= cal["test_after"]["ece"] <= 1 and (out / "reliability.png").stat().st_size > 1000
    from mda_glassml.classify import Classifier
    from mda_glassml.training.data import LabelledFrames

    frames = LabelledFrames.from_manifest(ka_dataset1).frames[:3]
    clf = Classifier(out / "model.pt")
    np.testing.assert_allclose(clf.probabilities(frames),
                               1 / (1 + np.exp(-clf.logits(frames) / cal["temperature"] - cal["bias"])), rtol=1e-9)
    # Same command again: resumes from the finished checkpoint, same result.
    assert main(["train", "--manifest", str(ka_dataset1), "--out", str(out), "--epochs", "2",
                 "--windows-per-frame", "4", *TINY]) == 0
    assert json.loads((out / "card.json").read_text())["scores"] == card["scores"]
    # Other settings on the same checkpoint are refused, not mixed.
    assert main(["train", "--manifest", str(ka_dataset1), "--out", str(out), "--epochs", "3",
                 "--windows-per-frame", "4", *TINY]) == 2
    err = capsys.readouterr().err
    assert "other work" in err and "epochs: 2 there, 3 now" in err


@pytest.mark.parametrize("args, message", [
    (["--seed", "-1"], "seed must be a whole number from 0 to 2**32 - 1, got -1"),
    (["--windows-per-frame", "0"], "windows_per_frame must be a positive integer, got 0"),
] + ([] if __import__("torch").cuda.is_available() else [(["--device", "cuda"], "finds none")]))
def test_train_bad_settings_are_one_line_errors_before_any_work(ka_dataset1, tmp_path, capsys, args, message):
    out = tmp_path / "o"
    assert main(["train", "--manifest", str(ka_dataset1), "--out", str(out), "--epochs", "1", "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (out / "checkpoint.pt").exists()


def test_train_window_is_a_length_and_old_fractions_are_refused(ka_dataset1, tmp_path, capsys):
    assert main(["train", "--manifest", str(ka_dataset1), "--out", str(tmp_path / "o"), "--window", "0.2",
                 "--quiet"]) == 2
    assert "use --window 12 for the same windows" in capsys.readouterr().err


def test_train_readout_sum_is_recorded_and_such_a_model_refuses_whole_frames(ka_dataset1, tmp_path, capsys):
    from mda_glassml.classify import Classifier
    from mda_glassml.errors import InputError
    from mda_glassml.training.data import LabelledFrames

    out = tmp_path / "sum"
    assert main(["train", "--manifest", str(ka_dataset1), "--out", str(out), "--epochs", "1", "--readout", "sum",
                 *TINY]) == 0
    bundle = load_bundle(out / "model.pt")
    assert bundle.model.config.readout == "sum" and bundle.card["input"]["window"] == 9.0
    frame = LabelledFrames.from_manifest(ka_dataset1).frames[0]   # side 14.6: not the training side
    clf = Classifier(out / "model.pt")
    with pytest.raises(InputError, match="window=9"):
        clf.probabilities([frame])
    assert 0 <= clf.window_map(frame, 9.0).probability <= 1      # the way it was trained


def test_crossval_command(ka_dataset1, tmp_path, capsys):
    out = tmp_path / "cv"
    assert main(["crossval", "--manifest", str(ka_dataset1), "--out", str(out), "--evals", "1", "--epochs", "1",
                 "--space", '{"hidden": [16, 32, 16], "window": 0.15, "batch_size": 8}', "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "outer test AUC" in printed and printed.count("fold ") == 3
    assert json.loads((out / "crossval.json").read_text())["folds"][0]["trials"]


def test_crossval_space_errors(ka_dataset1, tmp_path, capsys):
    base = ["crossval", "--manifest", str(ka_dataset1), "--out", str(tmp_path / "cv"), "--quiet"]
    assert main([*base, "--space", "{bad"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main([*base, "--space", '{"width": 3}']) == 2
    assert "unknown hyperparameters" in capsys.readouterr().err
    assert main([*base, "--evals", "1", "--epochs", "1"]) == 2  # Table 2's windows exceed this small box
    err = capsys.readouterr().err
    assert "window = 0.3 (the high end of its search range" in err and "use a window in (0, 0.24" in err
    # every value is checked before any fold starts (they used to fail inside a trial, or as a raw ValueError)
    for space, message in [('{"hidden": [300], "window": 0.2}', "hidden must be [low, high, step]"),
                           ('{"k": 0, "window": 0.2}', "k = 0: k must be a positive integer"),
                           ('{"dropout": [0, 1.5, 0.1], "window": 0.2}', "dropout = 1.5 (the high end"),
                           ('{"hidden": "big", "window": 0.2}', "hidden = 'big': hidden must be a number")]:
        assert main([*base, "--space", space]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and "job exception" not in err, space
        assert not (tmp_path / "cv" / "fold0").exists()


@pytest.mark.parametrize("argv, message", [
    (["--manifest", "missing.csv"], "no manifest"),
    (["--manifest", "{manifest}", "--k", "0"], "k must be"),
])
def test_train_errors(argv, message, ka_dataset1, tmp_path, capsys):
    argv = [a.replace("{manifest}", str(ka_dataset1)) for a in argv]
    assert main(["train", "--out", str(tmp_path / "o"), *argv, "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_train_out_must_be_a_folder(ka_dataset1, tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["train", "--manifest", str(ka_dataset1), "--out", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["train", "--manifest", str(ka_dataset1), "--out", str(f / "below")]) == 2
    assert "is not a writable folder" in capsys.readouterr().err


def test_train_cnn_command(ka_dataset1, tmp_path):
    out = tmp_path / "runs" / "cnn"  # missing parents are created, as --help says (training.rst's runs/d5)
    assert main(["train", "--model", "cnn", "--manifest", str(ka_dataset1), "--out", str(out), "--epochs", "1",
                 "--image-size", "64", "--batch-size", "4", "--quiet"]) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["model"] == "cnn" and card["hyperparameters"] == {"dropout": 0.5, "batch_size": 4}
    assert card["featurizer"]["size"] == 64 and load_bundle(out / "model.pt").kind == "cnn"


def test_train_summary_says_when_the_validation_frames_are_separated():
    from mda_glassml.cli.train import _separated_note
    from mda_glassml.training.calibration import fit_platt

    separated = fit_platt([0, 0, 1, 1], [-2.0, -1.0, 0.5, 3.0]).to_dict()
    note = _separated_note(separated)
    assert "separated" in note and "<= -1 < every glass's 0.5" in note
    assert _separated_note(fit_platt([0, 1, 0, 1], [-2.0, -1.0, 0.5, 3.0]).to_dict()) == ""
