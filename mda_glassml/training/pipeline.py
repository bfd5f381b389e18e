"""One training run from a labelled data set to a model bundle with its card.

:func:`train_model` splits the data by trajectory (train / validation /
test, 80/10/10 by default), trains with :func:`~mda_glassml.training.loop.fit`
(checkpoint after every epoch in ``out/checkpoint.pt``, so a killed run
resumes; a checkpoint of other work — other data, hyperparameters or
features — is refused, see :mod:`mda_glassml.training.fingerprint`), picks
the epoch with the best validation AUC, scores the held-out test
trajectories once, and writes ``out/model.pt`` (a bundle, see
:mod:`mda_glassml.models.bundle`) and ``out/card.json`` (data and its hash,
split sizes, hyperparameters, what the model sees — ``input.window``, the
window side in length units, or None for whole frames — the training
record, test AUC and accuracy).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, warn
from .crossval import cnn_builder, dmpnn_builder
from .data import LabelledFrames, group_split
from .fingerprint import data_hash
from .loop import TrainConfig, fit, predict_logits, scores

__all__ = ["train_model", "BUILDERS", "DEFAULT_PARAMS"]

#: Model name -> builder(params, train, val, seed, **options) -> (model, task, batch_size).
BUILDERS = {"dmpnn": dmpnn_builder, "cnn": cnn_builder}

#: Defaults: the original code's D-MPNN (hidden 300, depth 3, two FFN layers), k = 2 and windows
#: of 0.2 of the paper's box side (12 length units, about 173 particles at density 1.2).
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "dmpnn": {"k": 2, "window": 0.2, "hidden": 300, "depth": 3, "dropout": 0.0, "ffn_layers": 2, "batch_size": 50},
    # The original code's CNN run: dropout 0.5, batch 10.
    "cnn": {"dropout": 0.5, "batch_size": 10},
}


#: Validation configurations of each class a view needs for a Platt fit of its own (else: the pooled fit).
MIN_PER_VIEW_CLASS = 5


def _calibration(net: Any, task: Any, batch_size: int, device: str, test_labels: np.ndarray,
                 test_logits: np.ndarray, frames: tuple[LabelledFrames, LabelledFrames] | None = None
                 ) -> dict[str, Any]:
    """The calibration fitted on validation data; the test split's calibration before and after.

    Without ``frames``: temperature scaling on the validation samples the
    model trained on. With ``frames`` = (validation, test): Platt scaling
    (temperature and bias) on the whole validation configurations, scored on
    the whole test configurations — what a classifier applies the model to
    when that differs from the training samples (a window-trained, mean-readout
    D-MPNN on whole frames: measured, its P(glass) = 0.5 moved from T = 0.33
    on windows to T = 0.55 on whole 1080-particle frames). A model that does
    not rank the validation frames at all is left uncalibrated, with a warning
    and the reason in ``fit["failed"]``.

    Where the validation frames hold both views — thermal frames and inherent
    structures, told apart by :func:`mda_glassml.potential.views` as the
    classifier tells them — each with at least :data:`MIN_PER_VIEW_CLASS`
    of each class, each view also gets its own Platt fit (``views``), which the classifier applies to frames of that
    view: one scale for both misplaces P(glass) = 0.5 in each (the compact
    CNN's thermal crossing sat 0.09 below Tg, its inherent one 0.25 above).
    ``test_after`` and ``test_reliability`` are then those of the per-view
    calibration, ``test_pooled`` that of the single fit.
    """
    from ..potential import VIEWS, views  # noqa: PLC0415
    from .calibration import calibration, fit_platt, fit_temperature, sigmoid  # noqa: PLC0415

    temperature, bias, on = 1.0, 0.0, None
    per_view: dict[str, Any] = {}
    if frames is None:
        val = task.val_samples()
        fit = fit_temperature(task.labels(val), predict_logits(net, val, task.collate, batch_size, device)).to_dict()
        temperature, on = fit["temperature"], "validation"
        applied = test_logits / temperature + bias
    else:
        val_frames, test_frames = (task.frame_samples(f) for f in frames)
        val_labels, test_labels = task.labels(val_frames), task.labels(test_frames)
        val_logits = predict_logits(net, val_frames, task.collate, batch_size, device)
        test_logits = predict_logits(net, test_frames, task.collate, batch_size, device)
        try:
            fit = fit_platt(val_labels, val_logits).to_dict()
            temperature, bias, on = fit["temperature"], fit["bias"], "validation frames"
        except InputError as err:
            warn(f"P(glass) left uncalibrated: {err}")
            fit = {"failed": str(err)}
        applied = test_logits / temperature + bias
        # Views come from forces, which open windows lack: frames without a periodic box get one fit for all.
        periodic = "failed" not in fit and all(f.periodic for part in frames for f in part.frames)
        val_views, test_views = (views(f.frames) if periodic else None for f in frames)
        if val_views is not None and all(min(np.sum(val_labels[val_views == v] == c) for c in (0, 1))
                                         >= MIN_PER_VIEW_CLASS for v in VIEWS):
            for v in VIEWS:
                at, te = val_views == v, test_views == v
                try:
                    vfit = fit_platt(val_labels[at], val_logits[at]).to_dict()
                except InputError as err:  # e.g. a view the model ranks backwards: keep the pooled fit there
                    per_view[v] = {"temperature": temperature, "bias": bias, "fit": {"failed": str(err)}}
                    continue
                per_view[v] = {"temperature": vfit["temperature"], "bias": vfit["bias"], "fit": vfit}
                applied[te] = test_logits[te] / vfit["temperature"] + vfit["bias"]
            for v in VIEWS:
                te = test_views == v
                if len(np.unique(test_labels[te])) == 2:
                    pooled = calibration(test_labels[te], sigmoid(test_logits[te] / temperature + bias))
                    own = calibration(test_labels[te], sigmoid(applied[te]))
                    per_view[v]["test"] = {"n": int(te.sum()), "pooled": {"brier": pooled.brier, "ece": pooled.ece},
                                           "per_view": {"brier": own.brier, "ece": own.ece}}
    before = calibration(test_labels, sigmoid(test_logits))
    after = calibration(test_labels, sigmoid(applied))
    out = {"temperature": temperature, "bias": bias, "fitted_on": on, "fit": fit,
           "test_before": {"brier": before.brier, "ece": before.ece},
           "test_after": {"brier": after.brier, "ece": after.ece}, "test_reliability": after.to_dict()}
    if per_view:
        pooled = calibration(test_labels, sigmoid(test_logits / temperature + bias))
        out.update(views=per_view, test_pooled={"brier": pooled.brier, "ece": pooled.ece})
    return out


def train_model(data: LabelledFrames, out: str | os.PathLike, model: str = "dmpnn",
                params: dict[str, Any] | None = None, config: TrainConfig | None = None,
                fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), resume: bool = True,
                source: str | None = None, calibrate: bool = True, calibrate_on: str = "auto",
                **options: Any) -> dict[str, Any]:
    """Train one model on ``data``; returns the model card (also written to ``out/card.json``).

    Parameters
    ----------
    data : LabelledFrames
    out : path
        Folder for ``checkpoint.pt``, ``model.pt`` and ``card.json``.
    model : str
        ``"dmpnn"`` or ``"cnn"``.
    params : dict
        Hyperparameters (Table 2's names); missing ones from :data:`DEFAULT_PARAMS`.
    config : TrainConfig
        Epochs, seed, device, schedule (its ``batch_size`` comes from ``params``).
    fractions : (train, validation, test)
        Grouped split of the trajectories.
    resume : bool
        Continue from ``out/checkpoint.pt`` if it exists (same settings only).
    source : str
        What the data is (a manifest path), recorded in the card.
    calibrate : bool
        Fit a temperature on the validation split
        (:func:`~mda_glassml.training.calibration.fit_temperature`); the card's
        ``calibration`` section holds it with the test split's Brier score and
        ECE before and after, and :class:`~mda_glassml.classify.Classifier`
        applies it to every probability (no ranking, hence no AUC, changes).
    calibrate_on : {"auto", "samples", "frames"}
        ``"samples"``: temperature scaling on the validation samples the model
        trained on; ``"frames"``: Platt scaling (temperature and bias) on the
        whole validation configurations, which is what the classifier applies
        the model to; ``"auto"``: frames, except for a D-MPNN with a summed
        readout trained on windows (the classifier applies that one to windows).
        On frames, data holding thermal frames and inherent structures (each
        with both classes in validation) also gets one Platt fit per view
        (the card's ``calibration["views"]``), which the classifier picks per
        frame by :func:`mda_glassml.potential.views`.
    **options
        Passed to the builder (D-MPNN: ``mode="paper"``, ``n_rbf=16``,
        ``windows_per_frame=4``, ``readout="sum"`` — the default is
        ``"mean"`` on windows; CNN: ``variant="paper"``, ``image_size=128``).
    """
    if model not in BUILDERS:
        raise InputError(f"unknown model {model!r}; choose one of {sorted(BUILDERS)}.")
    p = {**DEFAULT_PARAMS[model], **(params or {})}
    config = config or TrainConfig()
    data.require_both_classes("the data set")
    parts = group_split(data.groups, fractions, seed=config.seed)
    train, val, test = (data.subset(i) for i in parts)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    net, task, batch_size = BUILDERS[model](p, train, val, config.seed, **options)
    config = replace(config, batch_size=batch_size)
    result = fit(net, task, config, checkpoint=out / "checkpoint.pt", resume=resume)
    test.require_both_classes("the test split")
    samples = task.samples(test, seed=config.seed + 7)
    test_logits = predict_logits(net, samples, task.collate, batch_size, config.device)
    test_auc, test_acc = scores(task.labels(samples), test_logits)
    card = {
        "model": model,
        "data": {"source": source, "hash": data_hash(data), "n_configurations": len(data), "n_trajectories": int(len(set(data.groups))),
                 "split": {"train": len(train), "validation": len(val), "test": len(test)},
                 "temperatures": sorted({round(float(t), 5) for t in data.temperatures}),
                 **data.geometry()},
        "hyperparameters": p,
        "options": options,
        "input": {**task.input, **({"readout": net.config.readout} if hasattr(net.config, "readout") else {})},
        "featurizer": task.featurizer.to_dict(),
        "training": {**{k: v for k, v in asdict(config).items() if k not in ("progress", "device")},
                     "best_epoch": result.best_epoch, "history": result.history},
        "scores": {"validation_auc": result.best_val_auc, "validation_accuracy": result.best_val_accuracy,
                   "test_auc": test_auc, "test_accuracy": test_acc, "test_samples": len(samples)},
    }
    if calibrate:
        if calibrate_on not in ("auto", "samples", "frames"):
            raise InputError(f"calibrate_on must be 'auto', 'samples' or 'frames', got {calibrate_on!r}.")
        on_windows = task.input.get("window") is not None and getattr(net.config, "readout", "mean") == "sum"
        whole = calibrate_on == "frames" or (calibrate_on == "auto" and not on_windows)
        card["calibration"] = _calibration(net, task, batch_size, config.device, task.labels(samples), test_logits,
                                           frames=(val, test) if whole else None)
    from ..models.bundle import save_bundle  # noqa: PLC0415

    save_bundle(out / "model.pt", net, task.featurizer, card=card)
    tmp = out / ".card.json.part"
    tmp.write_text(json.dumps(card, indent=2) + "\n")
    os.replace(tmp, out / "card.json")
    return card
