"""Nested cross-validation with hyperopt's TPE, selecting on validation data only.

The paper's scheme (section II.5), without its leak:

1. three disjoint outer test folds of 20 % of the configurations each,
   grouped by trajectory (:func:`~mda_glassml.training.data.outer_folds`);
2. on each outer-train set, an inner 80/10/10 train/validation/test split
   (grouped);
3. ``n_evals`` (15) TPE evaluations of ``epochs`` (10) epochs each over the
   search space, each scored by its best **inner-validation** AUC — never by
   a test set (the original code selected on test AUC); the first
   ``n_startup`` (5 of 15) are random, the rest TPE suggestions
   (:mod:`mda_glassml.training.search`; hyperopt's default of 20 random
   trials would make all 15 random);
4. the best hyperparameters retrained on inner-train + inner-test (the
   epoch chosen on inner validation), then scored once on the outer test.

Results: outer-test AUC and accuracy per fold, their mean ± sample std
(``ddof=1``).

Everything is written under ``out_dir`` as it happens: hyperopt's trials
after every evaluation (hyperopt's own ``trials_save_file``; a pickle this
package wrote itself), the final model's checkpoint after every epoch, and
each fold's ``result.json`` and model bundle when it ends. Run the same call
again to resume a killed search; finished folds are read back, not redone.
Each of these files carries a fingerprint of what made it (data, fold,
search space, budgets, settings, model builder, package version): a call
for other work into the same folder is refused, naming what differs.
The folds can run as dask tasks (``n_workers`` or ``scheduler``).

The model is pluggable: a *builder* turns a hyperparameter dict and data
into a model and a :class:`~mda_glassml.training.loop.Task`
(:func:`dmpnn_builder` for the D-MPNN, :func:`cnn_builder` for the CNN).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from .data import PAPER_BOX_SIDE, LabelledFrames, group_split, outer_folds
from .fingerprint import check_fingerprint, data_hash, fingerprint
from .loop import TrainConfig, fit, predict_logits, scores, run_fingerprint

__all__ = ["PAPER_SPACE", "CNN_SPACE", "CrossValResult", "FoldResult", "nested_cv", "dmpnn_builder", "cnn_builder",
           "check_space", "hyperopt_space"]

#: Table 2 of the paper: (low, high, step). ``window`` is a fraction of the paper's box side (60).
PAPER_SPACE: dict[str, tuple[float, float, float]] = {
    "k": (1, 5, 1),
    "window": (0.1, 0.3, 0.05),
    "hidden": (300, 2400, 100),
    "depth": (2, 6, 1),
    "dropout": (0.0, 0.5, 0.05),
    "ffn_layers": (1, 3, 1),
    "batch_size": (10, 100, 10),
}
_INTEGER = {"k", "hidden", "depth", "ffn_layers", "batch_size"}

#: The paper's CNN search space (section II.5): dropout and batch size.
CNN_SPACE: dict[str, tuple[float, float, float]] = {"dropout": (0.0, 0.5, 0.05), "batch_size": (10, 100, 10)}

Builder = Callable[[dict[str, Any], LabelledFrames, LabelledFrames, int], tuple[Any, Any, int]]


def check_space(space: dict[str, Any], data: LabelledFrames | None = None) -> dict[str, Any]:
    """``space`` checked before any training: ranges are ``(low, high, step)`` of numbers, and Table 2's
    names hold values the models take; returns it with ranges as tuples.

    ``window`` (a fraction of the paper's box side, 60) must cut windows from
    every frame of ``data``. Names outside Table 2 are left to the builder.

    >>> check_space({"hidden": [300]})
    Traceback (most recent call last):
    ...
    mda_glassml.errors.InputError: search range of hidden must be [low, high, step] (three numbers) or one value, got [300].
    """
    out = {}
    for name, value in space.items():
        if isinstance(value, (tuple, list)):
            if len(value) != 3 or not all(_is_number(v) for v in value):
                raise InputError(f"search range of {name} must be [low, high, step] (three numbers) or one value, "
                                 f"got {list(value)}.")
            low, high, step = value
            if not low <= high or step <= 0:
                raise InputError(f"search range of {name} must be (low <= high, step > 0), got {value}.")
            value = tuple(value)
            ends = {f"{name} = {low!r} (the low end of its search range {list(value)})": low,
                    f"{name} = {high!r} (the high end of its search range {list(value)})": high}
        else:
            ends = {f"{name} = {value!r}": value}
        if name in PAPER_SPACE:
            for what, v in ends.items():
                _check_value(name, v, what, data)
        out[name] = value
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)


def _check_value(name: str, v: Any, what: str, data: LabelledFrames | None) -> None:
    """One value of Table 2's ``name``; ``what`` names it in messages."""
    if name == "window" and v is None:  # whole frames
        return
    if not _is_number(v):
        raise InputError(f"{what}: {name} must be a number.")
    if name in _INTEGER and (v < 1 or int(round(v)) != v):
        raise InputError(f"{what}: {name} must be a positive integer.")
    if name == "dropout" and not 0 <= v < 1:
        raise InputError(f"{what}: dropout must lie in [0, 1).")
    if name == "window":
        shortest = min((min(f.box.Lx, f.box.Ly) for f in data.frames), default=np.inf) if data else np.inf
        if not 0 < v * PAPER_BOX_SIDE <= shortest:
            raise InputError(
                f"{what}: window is a fraction of the paper's box side ({PAPER_BOX_SIDE:g}), and windows of side "
                f"{v * PAPER_BOX_SIDE:.4g} do not fit in the shortest box of these data ({shortest:.4g}); "
                f"use a window in (0, {shortest / PAPER_BOX_SIDE:.4g}].")


def hyperopt_space(space: dict[str, Any]) -> dict[str, Any]:
    """``{name: (low, high, step)}`` (or a fixed value) as a hyperopt space of ``quniform`` choices."""
    from hyperopt import hp  # noqa: PLC0415

    out = {}
    for name, value in check_space(space).items():
        if isinstance(value, tuple):
            low, high, step = value
            out[name] = low if low == high else hp.quniform(name, low, high, step)
        else:
            out[name] = value
    return out


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        v = float(v) if isinstance(v, (np.floating, float)) else v
        out[k] = int(round(v)) if k in _INTEGER else (round(v, 10) if isinstance(v, float) else v)
    return out


def dmpnn_builder(params: dict[str, Any], train: LabelledFrames, val: LabelledFrames, seed: int,
                  mode: str = "invariant", n_rbf: int = 0, windows_per_frame: int = 1, readout: str | None = None,
                  pair_energy: bool = False, consistency: float = 0.0):
    """The D-MPNN from a hyperparameter dict (Table 2's names); returns (model, task, batch_size).

    ``readout`` defaults to ``"mean"`` when training on windows (so that the
    model applies to whole frames and windows of the training side or larger) and to ``"sum"``
    (the paper's equation 8) on whole frames. ``pair_energy``: the edges also
    carry their Kob–Andersen pair energy (:class:`~mda_glassml.models.featurize.Featurizer`).
    ``consistency``: train on pairs (:class:`~mda_glassml.training.tasks.GraphTask`).
    """
    from ..models.dmpnn import DMPNN  # noqa: PLC0415
    from ..models.featurize import Featurizer  # noqa: PLC0415
    from .tasks import GraphTask  # noqa: PLC0415

    p = _clean(params)
    featurizer = Featurizer(mode=mode, k=p["k"], n_rbf=n_rbf, pair_energy=pair_energy)
    window = None if p.get("window") is None else p["window"] * PAPER_BOX_SIDE
    if readout is None:
        readout = "sum" if window is None else "mean"
    import torch  # noqa: PLC0415

    torch.manual_seed(seed)  # the initial weights, too, follow the seed
    model = DMPNN(featurizer.node_dim, featurizer.edge_dim, hidden=p["hidden"], depth=p["depth"],
                  dropout=p["dropout"], ffn_layers=p["ffn_layers"], readout=readout)
    task = GraphTask(featurizer, train, val, window=window, seed=seed, windows_per_frame=windows_per_frame,
                     consistency=consistency)
    return model, task, _batch(p["batch_size"], task)


def _batch(batch_size: int, task: Any) -> int:
    # A batch of pairs holds two samples a pair: the same number of samples (and of steps) an epoch.
    return max(1, batch_size // 2) if task.consistency else batch_size


def cnn_builder(params: dict[str, Any], train: LabelledFrames, val: LabelledFrames, seed: int,
                variant: str = "compact", image_size: int = 250, augment: bool = True, shift: bool = False,
                consistency: float = 0.0, width: int = 1):
    """The CNN from a hyperparameter dict (``dropout``, ``batch_size``); returns (model, task, batch_size).

    The renderer draws whole configurations at ``image_size``; the network's
    input normalisation is measured on the training images. ``augment`` and
    ``shift``, ``consistency`` as in :class:`~mda_glassml.training.tasks.ImageTask`; ``width``
    multiplies the compact CNN's channels (:class:`~mda_glassml.models.cnn.CNNConfig`).
    """
    import torch  # noqa: PLC0415

    from ..models.cnn import CNN  # noqa: PLC0415
    from ..models.render import Renderer  # noqa: PLC0415
    from .tasks import ImageTask  # noqa: PLC0415

    p = _clean(params)
    task = ImageTask(Renderer(size=image_size), train, val, seed=seed, augment=augment, shift=shift,
                     consistency=consistency)
    torch.manual_seed(seed)
    model = CNN(variant=variant, image_size=image_size, dropout=p["dropout"], width=width)
    model.set_normalization(task.train_images)
    return model, task, _batch(p["batch_size"], task)


@dataclass
class FoldResult:
    """One outer fold: the chosen hyperparameters and the outer-test scores."""

    fold: int
    params: dict[str, Any]
    inner_val_auc: float
    test_auc: float
    test_accuracy: float
    n_train: int
    n_test: int
    trials: list[dict[str, Any]] = field(default_factory=list)


def _mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1: a handful of folds estimates a spread)."""
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else float("nan")


@dataclass
class CrossValResult:
    folds: list[FoldResult]

    @property
    def auc(self) -> tuple[float, float]:
        return _mean_std([f.test_auc for f in self.folds])

    @property
    def accuracy(self) -> tuple[float, float]:
        return _mean_std([f.test_accuracy for f in self.folds])

    def summary(self) -> str:
        lines = [f"fold {f.fold}: test AUC {f.test_auc:.4f}, accuracy {f.test_accuracy:.4f} "
                 f"(inner validation AUC {f.inner_val_auc:.4f}; {f.params})" for f in self.folds]
        (am, asd), (cm, csd) = self.auc, self.accuracy
        lines.append(f"outer test AUC {am:.4f} +- {asd:.4f}, accuracy {cm:.4f} +- {csd:.4f} "
                     f"over {len(self.folds)} folds")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"folds": [f.__dict__ for f in self.folds], "auc": self.auc, "accuracy": self.accuracy}


def builder_name(builder: Builder) -> dict[str, Any]:
    """A builder as plain values, for fingerprints: its qualified name and bound keyword options."""
    import functools  # noqa: PLC0415

    options: dict[str, Any] = {}
    while isinstance(builder, functools.partial):
        options = {**builder.keywords, **options}
        builder = builder.func
    name = f"{getattr(builder, '__module__', '?')}.{getattr(builder, '__qualname__', type(builder).__name__)}"
    return {"builder": name, "options": options}


def _fold_fingerprint(fold: int, data: LabelledFrames, test_idx: np.ndarray, builder: Builder,
                      space: dict[str, Any], n_evals: int, n_startup: int | None, config: TrainConfig,
                      final_epochs: int) -> dict[str, Any]:
    from .. import __version__  # noqa: PLC0415

    settings = {k: v for k, v in config.__dict__.items() if k not in ("progress", "device")}
    return fingerprint(data=data_hash(data), fold=fold, test=data_hash(data.subset(test_idx)),
                       space={k: list(v) if isinstance(v, tuple) else v for k, v in space.items()},
                       n_evals=n_evals, n_startup=n_startup, config=settings, final_epochs=final_epochs,
                       **builder_name(builder), version=__version__)


def _trial_record(trials: Any, hspace: Any) -> list[dict[str, Any]]:
    """Every trial of the search (resumed ones included), from hyperopt's own record."""
    from hyperopt import space_eval  # noqa: PLC0415

    out = []
    for t in trials.trials:
        vals = {k: v[0] for k, v in t["misc"]["vals"].items() if v}
        out.append({"tid": int(t["tid"]), "params": _clean(space_eval(hspace, vals)),
                    "val_auc": t["result"].get("val_auc"), "epoch": t["result"].get("epoch")})
    return out


def _run_fold(fold: int, data: LabelledFrames, train_idx: np.ndarray, test_idx: np.ndarray,
              builder: Builder, space: dict[str, Any], n_evals: int, config: TrainConfig,
              final_epochs: int, folder: Path | None, n_startup: int | None = None) -> FoldResult:
    from hyperopt import STATUS_OK, space_eval  # noqa: PLC0415

    from .search import tpe_search  # noqa: PLC0415

    made_by = _fold_fingerprint(fold, data, test_idx, builder, space, n_evals, n_startup, config, final_epochs)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        done = folder / "result.json"
        if done.is_file():
            saved = json.loads(done.read_text())
            check_fingerprint(saved.pop("fingerprint", None), made_by, f"the fold result {done}")
            return FoldResult(**saved)
    seed = config.seed + 1000 * fold
    outer_train = data.subset(train_idx)
    inner_tr, inner_val, inner_te = (outer_train.subset(i) for i in
                                     group_split(outer_train.groups, (0.8, 0.1, 0.1), seed=seed))

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        model, task, batch_size = builder(params, inner_tr, inner_val, seed)
        res = fit(model, task, replace(config, batch_size=batch_size, seed=seed))
        loss = -res.best_val_auc if np.isfinite(res.best_val_auc) else 0.0
        return {"loss": loss, "status": STATUS_OK, "val_auc": res.best_val_auc, "epoch": res.best_epoch}

    hspace = hyperopt_space(space)
    trials = tpe_search(objective, hspace, n_evals, seed, trials_file=folder / "trials.pkl" if folder else None,
                        fingerprint={k: v for k, v in made_by.items() if k != "final_epochs"}, n_startup=n_startup, progress=config.progress)
    evals = _trial_record(trials, hspace)
    params = _clean(space_eval(hspace, {k: v[0] for k, v in trials.best_trial["misc"]["vals"].items() if v}))
    final_train = LabelledFrames.concat([inner_tr, inner_te])
    model, task, batch_size = builder(params, final_train, inner_val, seed)
    ckpt = folder / "final.ckpt" if folder is not None else None
    final_config = replace(config, epochs=final_epochs, batch_size=batch_size, seed=seed)
    res = fit(model, task, final_config, checkpoint=ckpt, resume=True)
    test = data.subset(test_idx)
    test_samples = task.samples(test, seed=seed + 7)
    logits = predict_logits(model, test_samples, task.collate, batch_size, config.device)
    auc, acc = scores(task.labels(test_samples), logits)
    result = FoldResult(fold, params, res.best_val_auc, auc, acc, len(final_train), len(test), evals)
    if folder is not None:
        from ..models.bundle import save_bundle  # noqa: PLC0415

        # A data section as train_model's, so that a Classifier can check densities and sizes.
        data_card = {"n_configurations": len(final_train), "n_trajectories": int(len(set(final_train.groups))),
                     **final_train.geometry()}
        save_bundle(folder / "model.pt", model, task.featurizer,
                    card={"params": params, "fold": fold, "data": data_card, "input": task.input,
                          "test_auc": auc, "test_accuracy": acc, "history": res.history,
                          "fingerprint": run_fingerprint(model, task, final_config)})
        tmp = folder / ".result.json.part"
        tmp.write_text(json.dumps({"fingerprint": made_by, **result.__dict__}, indent=2) + "\n")
        os.replace(tmp, folder / "result.json")
    return result


def _run_fold_on_worker(*args: Any) -> FoldResult:
    import torch  # noqa: PLC0415

    # One thread per worker, as the cluster was sized: no oversubscription, and the same
    # arithmetic (hence the same numbers) as a single-threaded serial run.
    torch.set_num_threads(1)
    return _run_fold(*args)


def nested_cv(data: LabelledFrames, builder: Builder = dmpnn_builder, space: dict[str, Any] | None = None,
              n_evals: int = 15, epochs: int = 10, final_epochs: int | None = None, n_folds: int = 3,
              config: TrainConfig | None = None, out_dir: str | os.PathLike | None = None,
              n_workers: int = 1, scheduler: str | None = None, n_startup: int | None = None) -> CrossValResult:
    """Nested cross-validation of a model on labelled data (see the module docstring).

    Parameters
    ----------
    data : LabelledFrames
        Configurations with labels and trajectory groups.
    builder : callable
        ``builder(params, train, val, seed) -> (model, task, batch_size)``.
    space : dict
        ``{name: (low, high, step) or fixed value}``; default :data:`PAPER_SPACE`.
    n_evals, epochs : int
        TPE evaluations per fold and epochs per evaluation (paper: 15, 10).
    n_startup : int
        Random evaluations before TPE's suggestions (default
        :func:`~mda_glassml.training.search.default_startup`: 5 of 15).
    final_epochs : int
        Epochs of the retrained model (default ``epochs``).
    config : TrainConfig
        Seed, device, learning-rate schedule (its ``epochs`` and ``batch_size`` are overridden).
    out_dir : path, optional
        Where trials, checkpoints, models and results go (needed to resume).
    n_workers, scheduler
        Run the folds as dask tasks on a local cluster of ``n_workers``
        processes, or on the cluster at ``scheduler``.
    """
    data.require_both_classes("the data set")
    config = replace(config or TrainConfig(), epochs=epochs)
    final_epochs = final_epochs or epochs
    space = check_space(dict(PAPER_SPACE if space is None else space), data)  # before any fold starts
    folds = outer_folds(data.groups, n_folds=n_folds, seed=config.seed)
    out = Path(out_dir) if out_dir is not None else None
    args = [(i, data, tr, te, builder, space, n_evals, config, final_epochs,
             out / f"fold{i}" if out is not None else None, n_startup) for i, (tr, te) in enumerate(folds)]
    if n_workers <= 1 and scheduler is None:
        results = [_run_fold(*a) for a in args]
    else:
        from dask.distributed import Client  # noqa: PLC0415

        from ..cluster import local_cluster  # noqa: PLC0415

        cluster = None if scheduler else local_cluster(n_workers)
        try:
            with Client(scheduler or cluster) as client:
                quiet = [a[:7] + (replace(a[7], progress=False),) + a[8:] for a in args]
                results = client.gather([client.submit(_run_fold_on_worker, *a, pure=False) for a in quiet])
        finally:
            if cluster is not None:
                cluster.close()
    result = CrossValResult(results)
    if out is not None:
        (out / "crossval.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result
