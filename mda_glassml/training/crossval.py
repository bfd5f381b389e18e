"""Nested cross-validation with hyperopt's TPE, selecting on validation data only.

The paper's scheme (section II.5), without its leak:

1. three disjoint outer test folds of 20 % of the configurations each,
   grouped by trajectory (:func:`~mda_glassml.training.data.outer_folds`);
2. on each outer-train set, an inner 80/10/10 train/validation/test split
   (grouped);
3. ``n_evals`` (15) TPE evaluations of ``epochs`` (10) epochs each over the
   search space, each scored by its best **inner-validation** AUC — never by
   a test set (the original code selected on test AUC);
4. the best hyperparameters retrained on inner-train + inner-test (the
   epoch chosen on inner validation), then scored once on the outer test.

Results: outer-test AUC and accuracy per fold, their mean ± std.

Everything is written under ``out_dir`` as it happens: hyperopt's trials
after every evaluation (hyperopt's own ``trials_save_file``; a pickle this
package wrote itself), the final model's checkpoint after every epoch, and
each fold's ``result.json`` and model bundle when it ends. Run the same call
again to resume a killed search; finished folds are read back, not redone.
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

from ..frames import InputError
from .data import PAPER_BOX_SIDE, LabelledFrames, group_split, outer_folds
from .loop import TrainConfig, fit, predict_logits, scores

__all__ = ["PAPER_SPACE", "CNN_SPACE", "CrossValResult", "FoldResult", "nested_cv", "dmpnn_builder", "cnn_builder",
           "hyperopt_space"]

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


def hyperopt_space(space: dict[str, Any]) -> dict[str, Any]:
    """``{name: (low, high, step)}`` (or a fixed value) as a hyperopt space of ``quniform`` choices."""
    from hyperopt import hp  # noqa: PLC0415

    out = {}
    for name, value in space.items():
        if isinstance(value, (tuple, list)):
            low, high, step = value
            if not low <= high or step <= 0:
                raise InputError(f"search range of {name} must be (low <= high, step > 0), got {value}.")
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
                  mode: str = "invariant", n_rbf: int = 0, windows_per_frame: int = 1, readout: str = "sum"):
    """The D-MPNN from a hyperparameter dict (Table 2's names); returns (model, task, batch_size)."""
    from ..models.dmpnn import DMPNN  # noqa: PLC0415
    from ..models.featurize import Featurizer  # noqa: PLC0415
    from .tasks import GraphTask  # noqa: PLC0415

    p = _clean(params)
    featurizer = Featurizer(mode=mode, k=p["k"], n_rbf=n_rbf)
    window = None if p.get("window") is None else p["window"] * PAPER_BOX_SIDE
    import torch  # noqa: PLC0415

    torch.manual_seed(seed)  # the initial weights, too, follow the seed
    model = DMPNN(featurizer.node_dim, featurizer.edge_dim, hidden=p["hidden"], depth=p["depth"],
                  dropout=p["dropout"], ffn_layers=p["ffn_layers"], readout=readout)
    task = GraphTask(featurizer, train, val, window=window, seed=seed, windows_per_frame=windows_per_frame)
    return model, task, p["batch_size"]


def cnn_builder(params: dict[str, Any], train: LabelledFrames, val: LabelledFrames, seed: int,
                variant: str = "compact", image_size: int = 250, augment: bool = True):
    """The CNN from a hyperparameter dict (``dropout``, ``batch_size``); returns (model, task, batch_size).

    The renderer draws whole configurations at ``image_size``; the network's
    input normalisation is measured on the training images.
    """
    import torch  # noqa: PLC0415

    from ..models.cnn import CNN  # noqa: PLC0415
    from ..models.render import Renderer  # noqa: PLC0415
    from .tasks import ImageTask  # noqa: PLC0415

    p = _clean(params)
    task = ImageTask(Renderer(size=image_size), train, val, seed=seed, augment=augment)
    torch.manual_seed(seed)
    model = CNN(variant=variant, image_size=image_size, dropout=p["dropout"])
    model.set_normalization(task.train_images)
    return model, task, p["batch_size"]


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


@dataclass
class CrossValResult:
    folds: list[FoldResult]

    @property
    def auc(self) -> tuple[float, float]:
        a = np.array([f.test_auc for f in self.folds])
        return float(a.mean()), float(a.std())

    @property
    def accuracy(self) -> tuple[float, float]:
        a = np.array([f.test_accuracy for f in self.folds])
        return float(a.mean()), float(a.std())

    def summary(self) -> str:
        lines = [f"fold {f.fold}: test AUC {f.test_auc:.4f}, accuracy {f.test_accuracy:.4f} "
                 f"(inner validation AUC {f.inner_val_auc:.4f}; {f.params})" for f in self.folds]
        (am, asd), (cm, csd) = self.auc, self.accuracy
        lines.append(f"outer test AUC {am:.4f} +- {asd:.4f}, accuracy {cm:.4f} +- {csd:.4f} "
                     f"over {len(self.folds)} folds")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"folds": [f.__dict__ for f in self.folds], "auc": self.auc, "accuracy": self.accuracy}


def _run_fold(fold: int, data: LabelledFrames, train_idx: np.ndarray, test_idx: np.ndarray,
              builder: Builder, space: dict[str, Any], n_evals: int, config: TrainConfig,
              final_epochs: int, folder: Path | None) -> FoldResult:
    from hyperopt import STATUS_OK, fmin, space_eval, tpe  # noqa: PLC0415

    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        done = folder / "result.json"
        if done.is_file():
            return FoldResult(**json.loads(done.read_text()))
    seed = config.seed + 1000 * fold
    outer_train = data.subset(train_idx)
    inner_tr, inner_val, inner_te = (outer_train.subset(i) for i in
                                     group_split(outer_train.groups, (0.8, 0.1, 0.1), seed=seed))
    evals: list[dict[str, Any]] = []

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        model, task, batch_size = builder(params, inner_tr, inner_val, seed)
        res = fit(model, task, replace(config, batch_size=batch_size, seed=seed))
        evals.append({"params": _clean(params), "val_auc": res.best_val_auc, "epoch": res.best_epoch})
        loss = -res.best_val_auc if np.isfinite(res.best_val_auc) else 0.0
        return {"loss": loss, "status": STATUS_OK, "val_auc": res.best_val_auc, "epoch": res.best_epoch}

    hspace = hyperopt_space(space)
    trials_file = str(folder / "trials.pkl") if folder is not None else ""
    best = fmin(objective, hspace, algo=tpe.suggest, max_evals=n_evals,
                rstate=np.random.default_rng(seed), trials_save_file=trials_file,
                show_progressbar=config.progress)
    params = _clean(space_eval(hspace, best))
    final_train = LabelledFrames(inner_tr.frames + inner_te.frames,
                                 np.r_[inner_tr.labels, inner_te.labels], np.r_[inner_tr.groups, inner_te.groups],
                                 np.r_[inner_tr.temperatures, inner_te.temperatures])
    model, task, batch_size = builder(params, final_train, inner_val, seed)
    ckpt = folder / "final.ckpt" if folder is not None else None
    res = fit(model, task, replace(config, epochs=final_epochs, batch_size=batch_size, seed=seed),
              checkpoint=ckpt, resume=True)
    test = data.subset(test_idx)
    test_samples = task.samples(test, seed=seed + 7)
    logits = predict_logits(model, test_samples, task.collate, batch_size, config.device)
    auc, acc = scores(task.labels(test_samples), logits)
    result = FoldResult(fold, params, res.best_val_auc, auc, acc, len(final_train), len(test), evals)
    if folder is not None:
        from ..models.bundle import save_bundle  # noqa: PLC0415

        save_bundle(folder / "model.pt", model, task.featurizer,
                    card={"params": params, "fold": fold, "test_auc": auc, "test_accuracy": acc,
                          "history": res.history})
        tmp = folder / ".result.json.part"
        tmp.write_text(json.dumps(result.__dict__, indent=2) + "\n")
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
              n_workers: int = 1, scheduler: str | None = None) -> CrossValResult:
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
    space = dict(PAPER_SPACE if space is None else space)
    folds = outer_folds(data.groups, n_folds=n_folds, seed=config.seed)
    out = Path(out_dir) if out_dir is not None else None
    args = [(i, data, tr, te, builder, space, n_evals, config, final_epochs,
             out / f"fold{i}" if out is not None else None) for i, (tr, te) in enumerate(folds)]
    if n_workers <= 1 and scheduler is None:
        results = [_run_fold(*a) for a in args]
    else:
        from dask.distributed import Client, LocalCluster  # noqa: PLC0415

        cluster = None if scheduler else LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True)
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
