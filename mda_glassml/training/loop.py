"""The training harness shared by every classifier.

One loop for every model: Adam; a learning rate rising linearly from
``lr_start`` (1e-4) to ``lr_max`` (1e-3) over ``warmup_epochs`` (2) epochs, then
decaying exponentially to ``lr_end`` (1e-4) at the last step (updated every
step); binary cross-entropy on one logit per sample, plus an optional L2
penalty ``l2 / 2 * sum ||W||^2`` on weight matrices; validation AUC and
accuracy after every epoch, the best epoch (highest validation AUC, ties
broken by the lower validation loss) kept; a
checkpoint after every epoch (written atomically) from which ``resume=True``
continues exactly where a killed run stopped; a progress bar.

What a model trains on is a :class:`Task`: it hands out the training samples
of each epoch (fresh random windows, say), the fixed validation samples, and
collates a list of samples into ``(inputs, labels)``. The D-MPNN's task is
:class:`~mda_glassml.training.tasks.GraphTask`, the CNN's
:class:`~mda_glassml.training.tasks.ImageTask`.

Determinism: every epoch reseeds torch and numpy from ``(seed, epoch)``, so
on a CPU a run is bit-identical for a given seed, and a resumed run equals an
unbroken one.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np
import torch

from ..errors import InputError
from ..models import weight_l2
from ..models.device import torch_device
from .data import LabelledFrames
from .fingerprint import check_fingerprint, fingerprint

__all__ = ["TrainConfig", "TrainResult", "Task", "fit", "run_fingerprint", "predict", "predict_logits", "scores", "learning_rate"]


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run."""

    epochs: int = 30
    batch_size: int = 50
    lr_start: float = 1e-4
    lr_max: float = 1e-3
    lr_end: float = 1e-4
    warmup_epochs: float = 2.0
    l2: float = 0.0
    seed: int = 0
    device: str = "cpu"
    progress: bool = True

    def __post_init__(self) -> None:
        if int(self.epochs) != self.epochs or self.epochs < 1:
            raise InputError(f"epochs must be a positive integer, got {self.epochs!r}.")
        if int(self.batch_size) != self.batch_size or self.batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {self.batch_size!r}.")
        if min(self.lr_start, self.lr_max, self.lr_end) <= 0:
            raise InputError("learning rates must be positive.")
        if self.l2 < 0 or self.warmup_epochs < 0:
            raise InputError("l2 and warmup_epochs must be >= 0.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be a whole number from 0 to 2**32 - 1, got {self.seed!r}.")
        # A missing GPU is said here, before any data is read; "auto" becomes what it picked.
        object.__setattr__(self, "device", str(torch_device(self.device)))


def learning_rate(step: int, steps_per_epoch: int, config: TrainConfig) -> float:
    """The schedule: linear warm-up, then exponential decay to ``lr_end`` at the last step.

    >>> cfg = TrainConfig(epochs=10)
    >>> [round(learning_rate(s, 100, cfg), 6) for s in (0, 100, 200, 999)]
    [0.0001, 0.00055, 0.001, 0.0001]
    """
    warm = config.warmup_epochs * steps_per_epoch
    total = config.epochs * steps_per_epoch
    if step < warm:
        return config.lr_start + (config.lr_max - config.lr_start) * step / warm
    decay_steps = max(total - 1 - warm, 1)
    gamma = (config.lr_end / config.lr_max) ** (1.0 / decay_steps)
    return config.lr_max * gamma ** min(step - warm, decay_steps)


class Task(Protocol):
    """What a model trains on.

    A task may also set ``consistency`` (a float, 0 when absent): above 0 its
    training batches hold pairs of views of one configuration -- first views,
    then second views, as :meth:`collate` and :meth:`labels` lay them out --
    and :func:`fit` adds ``consistency`` times the mean squared difference of
    a pair's logits to the loss.
    """

    def train_samples(self, epoch: int) -> Sequence[Any]: ...

    def val_samples(self) -> Sequence[Any]: ...

    def samples(self, data: LabelledFrames, seed: int) -> Sequence[Any]: ...

    def labels(self, samples: Sequence[Any]) -> np.ndarray: ...

    def collate(self, samples: Sequence[Any]) -> Any: ...

    def fingerprint(self) -> dict[str, Any]: ...


@dataclass
class TrainResult:
    """History (one dict per epoch), the best epoch and its validation scores."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_auc: float = float("nan")
    best_val_accuracy: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scores(labels: np.ndarray, logits: np.ndarray) -> tuple[float, float]:
    """(AUC, accuracy at P(glass) = 0.5) from logits, with scikit-learn; AUC is NaN with one class only.

    >>> scores([0, 0, 1, 1], [-2.0, 0.5, 0.1, 3.0])
    (0.75, 0.75)
    """
    from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: PLC0415

    labels = np.asarray(labels)
    logits = np.asarray(logits, dtype=np.float64)
    acc = float(accuracy_score(labels, logits > 0))
    if len(np.unique(labels)) < 2:
        return float("nan"), acc
    return float(roc_auc_score(labels, logits)), acc


@torch.no_grad()
def predict_logits(model: torch.nn.Module, samples: Sequence[Any], collate: Callable[[Sequence[Any]], Any],
                   batch_size: int = 50, device: str = "cpu") -> np.ndarray:
    """The model's logit for every sample, in order (model in eval mode).

    AUCs are computed from logits: they rank like probabilities but do not
    saturate to exactly 0 or 1 (which would turn a confident model's ranking
    into ties).
    """
    was_training = model.training
    model.eval()
    out = []
    try:
        for start in range(0, len(samples), batch_size):
            batch = collate(samples[start:start + batch_size]).to(device)
            out.append(model(batch).double().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.empty(0)


def predict(model: torch.nn.Module, samples: Sequence[Any], collate: Callable[[Sequence[Any]], Any],
            batch_size: int = 50, device: str = "cpu") -> np.ndarray:
    """P(glass) for every sample, in order (model in eval mode)."""
    from .calibration import sigmoid  # noqa: PLC0415

    return sigmoid(predict_logits(model, samples, collate, batch_size, device))


def _save_atomic(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def fit(model: torch.nn.Module, task: Task, config: TrainConfig, checkpoint: str | os.PathLike | None = None,
        resume: bool = False, on_epoch_end: Callable[[int, dict[str, float]], None] | None = None) -> TrainResult:
    """Train ``model`` on ``task``; returns the history; leaves the best epoch's weights in ``model``.

    Parameters
    ----------
    checkpoint : path, optional
        File written after every epoch (model, optimiser, history, best
        weights, the run's fingerprint). With ``resume=True`` and an existing
        file, training goes on from the epoch after the last one saved; a
        file made by other work (other data, settings, model or features) is
        refused, with what differs.
    on_epoch_end : callable, optional
        Called as ``on_epoch_end(epoch, record)`` after each epoch's checkpoint.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    device = torch.device(config.device)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr_start)
    result = TrainResult()
    best_state: dict[str, torch.Tensor] | None = None
    best_loss = float("inf")
    start_epoch = 0
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    run = run_fingerprint(model, task, config)
    if resume and ckpt_path is not None and ckpt_path.is_file():
        state = _load_checkpoint(ckpt_path, run)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        best_state = state["best_model"]
        result = TrainResult(**state["result"])
        best_loss = result.history[result.best_epoch].get("val_loss", float("inf"))
        start_epoch = int(state["epoch"]) + 1

    consistency = float(getattr(task, "consistency", 0.0))  # the task's pairs and their weight
    val = task.val_samples()
    val_labels = task.labels(val) if len(val) else None
    for epoch in range(start_epoch, config.epochs):
        torch.manual_seed(int(np.random.default_rng([config.seed, 4, epoch]).integers(2**62)))
        samples = task.train_samples(epoch)
        if not len(samples):
            raise InputError("the training set is empty.")
        order = np.random.default_rng([config.seed, 3, epoch]).permutation(len(samples))
        n_batches = math.ceil(len(samples) / config.batch_size)
        model.train()
        losses = []
        bar = tqdm(range(n_batches), desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                   disable=not config.progress, leave=False)
        for b in bar:
            idx = order[b * config.batch_size:(b + 1) * config.batch_size]
            part = [samples[i] for i in idx]
            batch = task.collate(part).to(device)
            y = torch.as_tensor(task.labels(part), dtype=torch.float32, device=device)
            lr = learning_rate(epoch * n_batches + b, n_batches, config)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad()
            z = model(batch)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
            if consistency:  # a batch of pairs: first views, then second views (tasks._unpair)
                half = len(z) // 2
                loss = loss + consistency * torch.mean((z[:half] - z[half:]) ** 2)
            if config.l2:
                loss = loss + config.l2 * weight_l2(model)
            if hasattr(model, "regularization"):  # a model's own term of its loss (the CNN's L2)
                loss = loss + model.regularization()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        record = {"epoch": epoch, "loss": float(np.mean(losses)), "lr": lr}
        if val_labels is not None:
            logits = predict_logits(model, val, task.collate, config.batch_size, config.device)
            record["val_auc"], record["val_accuracy"] = scores(val_labels, logits)
            record["val_loss"] = float(torch.nn.functional.binary_cross_entropy_with_logits(
                torch.as_tensor(logits), torch.as_tensor(val_labels, dtype=torch.float64)))
            # Highest AUC; among equal AUCs (often 1.0 early on) the lowest loss, the better calibrated.
            better = best_state is None or record["val_auc"] > result.best_val_auc or (
                record["val_auc"] == result.best_val_auc and record["val_loss"] < best_loss)
        else:
            better = True  # no validation: the last epoch is the result
        if better:
            best_loss = record.get("val_loss", float("inf"))
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            result.best_epoch = epoch
            result.best_val_auc = record.get("val_auc", float("nan"))
            result.best_val_accuracy = record.get("val_accuracy", float("nan"))
        result.history.append(record)
        if config.progress:
            tqdm.write(
                f"epoch {epoch + 1}/{config.epochs}: loss {record['loss']:.4f}"
                + (f", val AUC {record['val_auc']:.4f}, accuracy {record['val_accuracy']:.3f}"
                   if "val_auc" in record else "")
            )
        if ckpt_path is not None:
            _save_atomic({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "best_model": best_state, "result": result.to_dict(),
                          "fingerprint": run}, ckpt_path)
        if on_epoch_end is not None:
            on_epoch_end(epoch, record)
    if best_state is not None:
        model.load_state_dict(best_state)
    return result


def run_fingerprint(model: torch.nn.Module, task: Task, config: TrainConfig) -> dict[str, Any]:
    """What decides a training run's result: settings (not progress or device), architecture, task."""
    settings = {k: v for k, v in asdict(config).items() if k not in ("progress", "device")}
    architecture = model.config.to_dict() if hasattr(model, "config") else type(model).__name__
    task_part = task.fingerprint() if hasattr(task, "fingerprint") else type(task).__name__
    return fingerprint(config=settings, model=architecture, task=task_part)


def _load_checkpoint(path: Path, run: dict[str, Any]) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(f"cannot read the checkpoint {path} ({exc}); delete it to start afresh.") from None
    check_fingerprint(state.get("fingerprint"), run, f"the checkpoint {path}")
    return state
