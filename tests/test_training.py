"""The training harness: grouped splits, schedule, learning a real task, determinism, resume, nested CV."""

import json

import numpy as np
import pytest
import torch

from mda_glassml.errors import InputError
from mda_glassml.models.dmpnn import DMPNN
from mda_glassml.models.featurize import Featurizer
from mda_glassml.training.crossval import nested_cv
from mda_glassml.training.data import LabelledFrames, group_split, outer_folds
from mda_glassml.training.loop import TrainConfig, fit, learning_rate, predict_logits, scores
from mda_glassml.training.tasks import GraphTask

WINDOW = 9.0  # about 97 particles of a 256-particle (side 14.6) configuration


@pytest.fixture(scope="module")
def data(ka_dataset1):
    torch.set_num_threads(1)
    return LabelledFrames.from_manifest(ka_dataset1)


# -- splits ----------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_grouped_splits_never_share_a_trajectory(seed):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"t{i}" for i in range(40)], rng.integers(1, 4, size=40))
    parts = group_split(groups, (0.8, 0.1, 0.1), seed=seed)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(groups)))
    sets = [set(groups[p]) for p in parts]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert abs(len(parts[0]) / len(groups) - 0.8) < 0.1
    folds = outer_folds(groups, n_folds=3, seed=seed)
    tests = [set(te) for _, te in folds]
    assert not (tests[0] & tests[1]) and not (tests[0] & tests[2]) and not (tests[1] & tests[2])
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
        assert abs(len(test) / len(groups) - 0.2) < 0.08


def test_split_bad_input():
    with pytest.raises(InputError, match="sum to 1"):
        group_split(["a", "b"], (0.5, 0.6))
    with pytest.raises(InputError, match="add trajectories"):
        group_split(["a", "a", "b"], (0.8, 0.1, 0.1))
    with pytest.raises(InputError, match="add trajectories"):
        outer_folds(["a", "b", "c"])


def test_learning_rate_schedule():
    cfg = TrainConfig(epochs=5)
    lr = [learning_rate(s, 10, cfg) for s in range(50)]
    np.testing.assert_allclose(lr[0], 1e-4)
    np.testing.assert_allclose(lr[10], 5.5e-4)
    np.testing.assert_allclose(lr[20], 1e-3)
    np.testing.assert_allclose(lr[49], 1e-4)
    assert all(a < b for a, b in zip(lr[:20], lr[1:21])) and all(a > b for a, b in zip(lr[20:49], lr[21:50]))
    ratios = np.array(lr[21:50]) / np.array(lr[20:49])
    np.testing.assert_allclose(ratios, ratios[0])  # exponential


def test_scores_use_sklearn_conventions():
    auc, acc = scores([0, 1, 0, 1], [-50.0, 60.0, -70.0, 80.0])
    assert (auc, acc) == (1.0, 1.0)
    assert np.isnan(scores([1, 1], [0.3, 0.5])[0])


# -- training on real data -------------------------------------------------
def make(data, seed=0, epochs=6, hidden=32):
    train_idx, val_idx, test_idx = group_split(data.groups, (0.6, 0.2, 0.2), seed=seed)
    feat = Featurizer(k=2)
    task = GraphTask(feat, data.subset(train_idx), data.subset(val_idx), window=WINDOW, seed=seed,
                     windows_per_frame=12)
    torch.manual_seed(seed)
    model = DMPNN(feat.node_dim, feat.edge_dim, hidden=hidden, depth=3)
    cfg = TrainConfig(epochs=epochs, batch_size=8, seed=seed, progress=False)
    return model, task, cfg, data.subset(test_idx)


def test_learns_a_real_task_and_scores_held_out_trajectories(data):
    model, task, cfg, test = make(data)
    result = fit(model, task, cfg)
    assert len(result.history) == cfg.epochs and result.best_val_auc >= 0.95
    samples = task.samples(test, seed=99)
    auc, acc = scores(task.labels(samples), predict_logits(model, samples, task.collate))
    assert auc >= 0.95 and acc >= 0.8, (auc, acc)


def test_same_seed_same_model(data):
    runs = []
    for _ in range(2):
        model, task, cfg, _ = make(data, epochs=2, hidden=16)
        runs.append((fit(model, task, cfg).history, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for k, v in runs[0][1].items():
        assert torch.equal(v, runs[1][1][k])


def test_killed_and_resumed_equals_unbroken(data, tmp_path):
    model, task, cfg, _ = make(data, epochs=3, hidden=16)
    unbroken = fit(model, task, cfg)
    reference = {k: v.clone() for k, v in model.state_dict().items()}

    class Killed(Exception):
        pass

    def kill_after_first(epoch, record):
        if epoch == 0:
            raise Killed

    ckpt = tmp_path / "run.ckpt"
    model, task, cfg, _ = make(data, epochs=3, hidden=16)
    with pytest.raises(Killed):
        fit(model, task, cfg, checkpoint=ckpt, on_epoch_end=kill_after_first)
    model, task, cfg, _ = make(data, epochs=3, hidden=16)  # a fresh process would rebuild everything
    resumed = fit(model, task, cfg, checkpoint=ckpt, resume=True)
    assert resumed.history == unbroken.history and resumed.best_epoch == unbroken.best_epoch
    for k, v in model.state_dict().items():
        assert torch.equal(v, reference[k])

    with pytest.raises(InputError, match="other work: config.epochs: 3 there, 4 now"):
        fit(model, task, TrainConfig(epochs=4, batch_size=8, progress=False), checkpoint=ckpt, resume=True)
    ckpt.write_bytes(b"garbage")
    with pytest.raises(InputError, match="cannot read the checkpoint"):
        fit(model, task, cfg, checkpoint=ckpt, resume=True)


def test_a_checkpoint_of_other_data_or_features_is_refused(data, tmp_path):
    # The case: a k = 2 run in the folder, then other data with k = 4 and dropout 0.3.
    ckpt = tmp_path / "run.ckpt"
    model, task, cfg, _ = make(data, epochs=1, hidden=8)
    fit(model, task, cfg, checkpoint=ckpt)
    other = data.subset(np.arange(len(data))[::-1])  # same frames, another order: another data set
    tr, va, _ = group_split(other.groups, (0.6, 0.2, 0.2), seed=0)
    feat = Featurizer(k=4)
    task4 = GraphTask(feat, other.subset(tr), other.subset(va), window=WINDOW, seed=0, windows_per_frame=12)
    model4 = DMPNN(feat.node_dim, feat.edge_dim, hidden=8, depth=3, dropout=0.3)
    with pytest.raises(InputError, match="other work") as err:
        fit(model4, task4, cfg, checkpoint=ckpt, resume=True)
    for key in ("model.dropout", "task.featurizer.k", "task.train"):
        assert key in str(err.value)
    # A checkpoint that records nothing of what made it (older versions) is refused too.
    state = torch.load(ckpt, weights_only=True)
    del state["fingerprint"]
    torch.save(state, ckpt)
    with pytest.raises(InputError, match="records nothing"):
        fit(model, task, cfg, checkpoint=ckpt, resume=True)


def test_window_training_defaults_to_a_mean_readout(data):
    from mda_glassml.training.crossval import dmpnn_builder

    params = {"k": 2, "window": 0.15, "hidden": 8, "depth": 2, "dropout": 0.0, "ffn_layers": 1, "batch_size": 8}
    model, task, _ = dmpnn_builder(params, data, None, 0)
    assert model.config.readout == "mean" and task.input["window"] == pytest.approx(9.0)
    assert dmpnn_builder({**params, "window": None}, data, None, 0)[0].config.readout == "sum"
    assert dmpnn_builder(params, data, None, 0, readout="sum")[0].config.readout == "sum"


# -- bad data --------------------------------------------------------------
def test_one_class_and_missing_files(data, ka_dataset1, tmp_path):
    liquids = data.subset(np.flatnonzero(data.labels == 0))
    with pytest.raises(InputError, match="liquids only"):
        GraphTask(Featurizer(), liquids, None, window=WINDOW)
    manifest = tmp_path / "moved.csv"
    manifest.write_text(ka_dataset1.read_text())  # the relative paths now point nowhere
    with pytest.raises(InputError, match="missing file"):
        LabelledFrames.from_manifest(manifest)
    with pytest.raises(InputError, match="no manifest"):
        LabelledFrames.from_manifest(tmp_path / "none.csv")


# -- nested cross-validation -------------------------------------------------
TINY_SPACE = {"k": (2, 3, 1), "window": 0.15, "hidden": (16, 32, 16), "depth": (2, 3, 1), "dropout": 0.0,
              "ffn_layers": 1, "batch_size": 8}


def test_nested_cv_selects_on_validation_and_resumes(data, tmp_path, monkeypatch):
    import mda_glassml.training.crossval as cv

    seen = []
    real_fit = cv.fit

    def spy(model, task, config, **kw):
        seen.append({tuple(g) for g in task.train.groups} | set(task.val.groups))
        return real_fit(model, task, config, **kw)

    monkeypatch.setattr(cv, "fit", spy)
    cfg = TrainConfig(progress=False)
    result = nested_cv(data, space=TINY_SPACE, n_evals=2, epochs=2, final_epochs=3, config=cfg, out_dir=tmp_path)
    assert len(result.folds) == 3
    folds = outer_folds(data.groups, n_folds=3, seed=cfg.seed)
    # 2 evaluations + 1 final fit per fold; none of them ever saw a test trajectory.
    assert len(seen) == 9
    for i, (_, test) in enumerate(folds):
        test_groups = set(data.groups[test])
        for used in seen[3 * i:3 * i + 3]:
            assert not used & test_groups
    for f in result.folds:
        assert len(f.trials) == 2 and 0.0 <= f.test_auc <= 1.0
        # The chosen hyperparameters are those of a best trial by inner-validation AUC.
        best = max(t["val_auc"] for t in f.trials)
        assert f.params in [t["params"] for t in f.trials if t["val_auc"] == best]
        assert 0.0 <= f.inner_val_auc <= 1.0
        assert (tmp_path / f"fold{f.fold}" / "trials.pkl").is_file()
        assert (tmp_path / f"fold{f.fold}" / "model.pt").is_file()
    saved = json.loads((tmp_path / "crossval.json").read_text())
    assert saved["auc"][0] == pytest.approx(result.auc[0])

    assert result.auc[1] == pytest.approx(np.std([f.test_auc for f in result.folds], ddof=1))
    # Fold bundles carry a data section (density, box) and what they trained on.
    from mda_glassml.models.bundle import load_bundle

    card = load_bundle(tmp_path / "fold0" / "model.pt").card
    assert card["data"]["density"] == pytest.approx(1.2, rel=0.01) and card["input"]["window"] == pytest.approx(9.0)

    seen.clear()  # a second call reads the finished folds back
    again = nested_cv(data, space=TINY_SPACE, n_evals=2, epochs=2, final_epochs=3, config=cfg, out_dir=tmp_path)
    assert not seen and again.auc == result.auc
    # ... but never for other work: another budget, other data.
    with pytest.raises(InputError, match="fold result .* n_evals: 2 there, 3 now"):
        nested_cv(data, space=TINY_SPACE, n_evals=3, epochs=2, final_epochs=3, config=cfg, out_dir=tmp_path)
    fewer = data.subset(np.arange(len(data) - 2))
    with pytest.raises(InputError, match="data:"):
        nested_cv(fewer, space=TINY_SPACE, n_evals=2, epochs=2, final_epochs=3, config=cfg, out_dir=tmp_path)
    assert not seen


def test_nested_cv_folds_on_dask_equal_serial(data, tmp_path):
    cfg = TrainConfig(progress=False)
    kw = dict(space=TINY_SPACE, n_evals=1, epochs=1, config=cfg)
    serial = nested_cv(data, out_dir=tmp_path / "serial", **kw)
    on_dask = nested_cv(data, out_dir=tmp_path / "dask", n_workers=2, **kw)
    assert [f.__dict__ for f in on_dask.folds] == [f.__dict__ for f in serial.folds]


def test_calibration_measures_and_temperature_scaling_recovers_a_planted_overconfidence():
    from sklearn.metrics import roc_auc_score

    from mda_glassml.errors import InputError
    from mda_glassml.training.calibration import calibration, fit_temperature, sigmoid

    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, 20_000)
    y = (rng.random(z.size) < sigmoid(z)).astype(int)
    good = calibration(y, sigmoid(z))
    bad = calibration(y, sigmoid(4 * z))  # four times too confident
    assert good.ece < 0.02 < 0.08 < bad.ece and good.brier < bad.brier
    assert sum(good.counts) == z.size and len(good.mean_predicted) == len(good.counts) <= 10
    fit = fit_temperature(y[:10_000], 4 * z[:10_000])  # fitted on one half ...
    assert fit.temperature == pytest.approx(4.0, rel=0.05) and not fit.at_bound
    after = calibration(y[10_000:], sigmoid(4 * z[10_000:] / fit.temperature))  # ... scored on the other
    assert after.ece < 0.02
    assert roc_auc_score(y, 4 * z / fit.temperature) == roc_auc_score(y, z)  # no ranking changes
    # a perfectly separated validation set drives T to its bound, and says so
    sep = fit_temperature([0, 0, 1, 1], [-3.0, -1.0, 1.0, 3.0])
    assert sep.at_bound and sep.temperature == pytest.approx(0.1, rel=1e-2)
    with pytest.raises(InputError, match="both classes"):
        fit_temperature([1, 1], [0.2, 0.3])
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        calibration([0, 1], [0.2, 1.3])
    bad.figure()


def test_platt_scaling_moves_the_threshold_and_refuses_a_backwards_model():
    from mda_glassml.training.calibration import calibration, fit_platt, sigmoid

    rng = np.random.default_rng(4)
    z = rng.normal(0, 2, 20_000)
    y = (rng.random(z.size) < sigmoid(z)).astype(int)
    # a model whose logits run 2x too large and 3 too high (what a window-trained model does on whole frames)
    fit = fit_platt(y[:10_000], 2 * z[:10_000] + 3)
    assert fit.temperature == pytest.approx(2.0, rel=0.05) and fit.bias == pytest.approx(-1.5, abs=0.1)
    after = calibration(y[10_000:], sigmoid((2 * z[10_000:] + 3) / fit.temperature + fit.bias))
    assert after.ece < 0.02 < calibration(y[10_000:], sigmoid(2 * z[10_000:] + 3)).ece
    with pytest.raises(InputError, match="backwards"):
        fit_platt(y, -z)
    # a barely trained model's logits of size 1e-4 still calibrate (standardised before the fit)
    tiny = fit_platt(y[:10_000], 1e-4 * z[:10_000])
    assert tiny.temperature == pytest.approx(1e-4, rel=0.05)
    assert not fit.separated and fit.gap is None
    # perfectly separated classes: no maximum of the likelihood; the fit says so and where the gap is,
    # and its P(glass) = 0.5 lies inside it
    sep = fit_platt([0, 0, 0, 1, 1, 1], [-5.0, -4.0, -3.0, 2.0, 3.0, 4.0])
    assert sep.separated and sep.gap == (-3.0, 2.0) and -3.0 < -sep.bias * sep.temperature < 2.0


def test_a_model_that_ranks_nothing_is_left_uncalibrated_with_the_reason():
    # The reproduction's smoke preset trains for one epoch: its model can give one logit for every frame.
    from mda_glassml.training.pipeline import _calibration

    class Constant(torch.nn.Module):
        def forward(self, batch):
            return torch.zeros(len(batch))

    class Task:
        def frame_samples(self, data):
            return list(zip(range(len(data)), data))

        def labels(self, samples):
            return np.array([y for _, y in samples], dtype=float)

        def collate(self, samples):
            return torch.zeros(len(samples))

    split = ([0, 1, 0, 1], [1, 0, 1, 0])
    with pytest.warns(UserWarning, match="left uncalibrated"):
        cal = _calibration(Constant(), Task(), 2, "cpu", None, None, frames=split)
    assert cal["temperature"] == 1.0 and cal["bias"] == 0.0 and "not at all" in cal["fit"]["failed"]
    assert cal["test_after"] == cal["test_before"]


def test_each_view_gets_its_own_platt_fit():
    # Planted logits: thermal frames four times too confident and shifted, inherent structures four times too
    # timid and shifted the other way. One fit cannot mend both; one per view recovers each (the classifier,
    # which tells the views apart the same way, applies them: test_classify).
    import gsd.hoomd

    from mda_glassml.data import EXAMPLE_INHERENT_STRUCTURES, EXAMPLE_TRAJECTORY
    from mda_glassml.frames import Frame
    from mda_glassml.training.pipeline import _calibration

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as thermal, gsd.hoomd.open(EXAMPLE_INHERENT_STRUCTURES) as minimised:
        views = [Frame.from_gsd(thermal[-1]), Frame.from_gsd(minimised[-1])]
    rng = np.random.default_rng(5)

    def planted(n, inherent_every=2, backwards=False):
        view = (np.arange(n) % inherent_every == 0).astype(int)  # 0 thermal, 1 inherent
        z = rng.normal(0, 2, n)
        y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
        seen = np.where(view == 0, 4 * z + 2, (-0.25 if backwards else 0.25) * z - 3)
        # the planted logit rides in the temperatures, which the stand-in task hands to the stand-in model
        return LabelledFrames([views[v] for v in view], y, [f"run{i}" for i in range(n)], seen)

    class Identity(torch.nn.Module):
        def forward(self, batch):
            return batch

    class Task:
        def frame_samples(self, data):
            return list(zip(data.temperatures, data.labels))

        def labels(self, samples):
            return np.array([y for _, y in samples], dtype=float)

        def collate(self, samples):
            return torch.tensor([z for z, _ in samples], dtype=torch.float64)

    # 500 configurations a view (the detector's 2 ms a frame is most of this test's time): over 40 seeds the
    # temperatures came within 26 % and the per-view fit won on the test split's ECE and Brier score every time
    # The test split holds the views in other proportions (a third inherent), so that validation and test
    # views mixed up would show in the counts.
    cal = _calibration(Identity(), Task(), 500, "cpu", None, None, frames=(planted(1000), planted(999, 3)))
    assert cal["views"]["thermal"]["temperature"] == pytest.approx(4, rel=0.3)
    assert cal["views"]["inherent"]["temperature"] == pytest.approx(0.25, rel=0.3)
    for v, n in (("thermal", 666), ("inherent", 333)):
        test = cal["views"][v]["test"]
        assert test["n"] == n and test["per_view"]["ece"] < test["pooled"]["ece"]
        assert test["per_view"]["brier"] < test["pooled"]["brier"]
    assert cal["test_after"]["ece"] < cal["test_pooled"]["ece"]
    assert cal["test_reliability"]["ece"] == cal["test_after"]["ece"]
    # one view only (the paper recipe's thermal frames): the pooled fit alone, no views
    thermal_only = planted(200).subset(np.arange(1, 200, 2))
    assert "views" not in _calibration(Identity(), Task(), 500, "cpu", None, None, frames=(thermal_only,) * 2)
    # a view with fewer than MIN_PER_VIEW_CLASS of a class in validation: no per-view fits
    few = planted(200)
    inherent_liquids = np.flatnonzero((few.labels == 0) & (np.arange(200) % 2 == 0))
    keep = np.flatnonzero((few.labels == 1) | (np.arange(200) % 2 == 1))  # every glass, the thermal liquids ...
    keep = np.sort(np.r_[keep, inherent_liquids[:4]])  # ... and 4 inherent liquids
    assert "views" not in _calibration(Identity(), Task(), 500, "cpu", None, None,
                                       frames=(few.subset(keep), planted(200)))
    # a view the model ranks backwards: that view keeps the pooled fit and the card says why
    cal = _calibration(Identity(), Task(), 500, "cpu", None, None,
                       frames=(planted(400, backwards=True), planted(400)))
    assert "backwards" in cal["views"]["inherent"]["fit"]["failed"]
    assert (cal["views"]["inherent"]["temperature"], cal["views"]["inherent"]["bias"]) == (cal["temperature"],
                                                                                          cal["bias"])
    assert "failed" not in cal["views"]["thermal"]["fit"]
    # open windows (no forces, no views): one fit for all, and training's card is still written
    from dataclasses import replace

    opened = planted(100)
    opened = LabelledFrames([replace(f, periodic=False) for f in opened.frames], opened.labels, opened.groups,
                            opened.temperatures)
    assert "views" not in _calibration(Identity(), Task(), 500, "cpu", None, None, frames=(opened, opened))


# -- pairs of views of one configuration (the consistency term) -----------------------------
def _with_views(data, jitter):
    """``data`` and, paired with each frame, a copy whose particles moved by up to ``jitter`` (a stand-in for
    a thermal frame and its inherent structure)."""
    from dataclasses import replace

    rng = np.random.default_rng(3)
    copies = [replace(f, positions=f.positions + rng.uniform(-jitter, jitter, f.positions.shape)) for f in data.frames]
    n = len(data)
    return LabelledFrames(data.frames + copies, np.r_[data.labels, data.labels], np.r_[data.groups, data.groups],
                          np.r_[data.temperatures, data.temperatures], partner=np.r_[np.arange(n) + n, np.arange(n)])


def test_pairs_follow_subsets_and_splits_and_are_checked(data):
    both = _with_views(data, 0.05)
    n = len(data)
    for part in group_split(both.groups, (0.6, 0.2, 0.2), seed=0):
        sub = both.subset(part)
        np.testing.assert_array_equal(part[sub.partner], (part + n) % (2 * n))  # still each frame's copy
    assert both.subset([3, 0, 3 + n]).partner.tolist() == [2, -1, 0]  # a partner left out: unpaired
    with pytest.raises(InputError, match="repeat configurations before pairing"):
        both.subset([0, 0, n])
    bad = np.r_[np.arange(n) + n, np.arange(n)]
    bad[0] = 1
    with pytest.raises(InputError, match="point at each other"):
        LabelledFrames(both.frames, both.labels, both.groups, both.temperatures, partner=bad)
    labels = both.labels.copy()
    labels[n] = 1 - labels[n]
    with pytest.raises(InputError, match="share their label"):
        LabelledFrames(both.frames, labels, both.groups, both.temperatures, partner=both.partner)
    from mda_glassml.training.fingerprint import data_hash

    plain = LabelledFrames(both.frames, both.labels, both.groups, both.temperatures)
    assert data_hash(plain) != data_hash(both)
    joined = LabelledFrames.concat([plain.subset([0, 1]), both])  # pairs shift with their part, others unpaired
    assert joined.partner.tolist() == [-1, -1, *(both.partner + 2).tolist()]
    with pytest.raises(InputError, match="needs a partner"):
        GraphTask(Featurizer(k=2), plain, None, window=WINDOW, consistency=1.0)


def test_paired_samples_see_both_views_alike(data):
    """Both views of a pair are cut at the same window centre (graphs) and turned, flipped and shifted alike
    (images): identical views give identical samples."""
    from mda_glassml.models.render import Renderer
    from mda_glassml.training.tasks import ImageTask

    same = _with_views(data, 0.0)
    graphs = GraphTask(Featurizer(k=2), same, None, window=WINDOW, seed=1, windows_per_frame=2, consistency=1.0)
    pairs = graphs.train_samples(0)
    assert len(pairs) == 2 * len(data)
    for a, b, y in pairs:
        assert float(a.y) == float(b.y) == y
        torch.testing.assert_close(a.edge_attr, b.edge_attr, rtol=0, atol=0)
    batch = graphs.collate(pairs[:3])
    assert batch.num_graphs == 6 and graphs.labels(pairs[:3]).tolist() == [p[2] for p in pairs[:3]] * 2
    # views that differ: each sample holds its own frame and its partner, in that order
    moved = _with_views(data, 0.1)
    whole = GraphTask(Featurizer(k=2), moved, None, window=None, consistency=1.0)
    for (a, b, _), (i, j) in zip(whole.train_samples(0), whole.pairs):
        assert j == i + len(data)
        torch.testing.assert_close(a.distance, whole.featurizer.graph(moved.frames[i]).distance, rtol=0, atol=0)
        torch.testing.assert_close(b.distance, whole.featurizer.graph(moved.frames[j]).distance, rtol=0, atol=0)
    plain = ImageTask(Renderer(size=48), moved, None, augment=False, consistency=1.0)
    for (a, b, _), (i, j) in zip(plain.train_samples(0), plain.pairs):
        assert np.array_equal(a, plain.train_images[i]) and np.array_equal(b, plain.train_images[j])
    with pytest.raises(InputError, match="finite number"):
        GraphTask(Featurizer(k=2), moved, None, window=WINDOW, consistency=float("inf"))
    with pytest.raises(InputError, match="integer indices"):
        LabelledFrames(moved.frames, moved.labels, moved.groups, moved.temperatures, partner=moved.partner + 0.5)
    images = ImageTask(Renderer(size=48), same, None, seed=1, shift=True, consistency=1.0)
    samples = images.train_samples(0)
    assert len(samples) == len(data) and all(np.array_equal(a, b) for a, b, _ in samples)
    turned = [not np.array_equal(a, images.train_images[i]) for i, (a, _, _) in enumerate(samples)]
    assert any(turned)  # augmented, not the plain pictures
    assert images.collate(samples[:2]).shape == (4, 3, 48, 48)


def test_the_consistency_term_pulls_a_pairs_logits_together(data):
    """Trained on pairs whose second view is the first jittered, a D-MPNN with the consistency term gives
    the two views closer logits than the same run without it."""
    from mda_glassml.training.crossval import dmpnn_builder

    both = _with_views(data, 0.15)
    train_idx, val_idx, _ = group_split(both.groups, (0.6, 0.2, 0.2), seed=0)
    train, val = both.subset(train_idx), both.subset(val_idx)
    gaps = {}
    for weight in (0.0, 30.0):
        params = {"k": 2, "window": None, "hidden": 16, "depth": 2, "dropout": 0.0, "ffn_layers": 2, "batch_size": 8}
        model, task, batch = dmpnn_builder(params, train, val, seed=0, consistency=weight)
        assert batch == (4 if weight else 8)  # pairs of two samples each: the same samples per batch
        fit(model, task, TrainConfig(epochs=4, batch_size=batch, progress=False))
        z = predict_logits(model, task.frame_samples(train), task.collate, 16)
        gaps[weight] = float(np.mean(np.abs(z - z[train.partner])))
    assert gaps[30.0] < 0.5 * gaps[0.0], gaps
