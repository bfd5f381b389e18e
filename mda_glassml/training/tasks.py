"""What each model trains on: samples per epoch, fixed evaluation samples, collation.

A task implements :class:`~mda_glassml.training.loop.Task` for one kind of
model:

- :class:`GraphTask` (the D-MPNN): graphs of random square windows, fresh
  every epoch; evaluation windows fixed by a seed;
- :class:`ImageTask` (the CNN): rendered images of whole configurations,
  augmented every epoch by a random rotation of 0/90/180/270 degrees and a
  vertical flip with probability 1/2 (both exact symmetries of a periodic
  square box's image), optionally a random periodic translation;
  evaluation images unaugmented.

Randomness comes from ``numpy.random.default_rng([seed, stream, epoch])``,
never from global state, so epochs are reproducible and resumable.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from .data import LabelledFrames, evaluation_windows, sample_windows
from .fingerprint import data_hash

__all__ = ["GraphTask", "ImageTask"]


def _require_classes(train: LabelledFrames, val: LabelledFrames | None) -> None:
    train.require_both_classes("the training set")
    if val is not None:
        val.require_both_classes("the validation set")


class GraphTask:
    """Graphs of (windows of) labelled frames for the D-MPNN.

    Training windows are drawn afresh every epoch (seeded by ``(seed,
    epoch)``); validation windows are drawn once, from ``seed``, so every
    epoch and every model is validated on the same windows.

    Parameters
    ----------
    featurizer : mda_glassml.models.featurize.Featurizer
    train, val : LabelledFrames
    window : float or None
        Window side in length units (None: whole frames).
    windows_per_frame : int
        Windows drawn from each frame per epoch (and for validation).
    """

    def __init__(self, featurizer: Any, train: LabelledFrames, val: LabelledFrames | None,
                 window: float | None, seed: int = 0, windows_per_frame: int = 1) -> None:
        _require_classes(train, val)
        self.featurizer, self.train, self.val = featurizer, train, val
        self.window, self.seed, self.windows_per_frame = window, seed, int(windows_per_frame)
        self._val = None

    @property
    def input(self) -> dict[str, Any]:
        """What the model sees, for its card: the window side (None: whole frames)."""
        return {"window": None if self.window is None else float(self.window),
                "windows_per_frame": self.windows_per_frame}

    def fingerprint(self) -> dict[str, Any]:
        """What decides this task's samples (see :mod:`mda_glassml.training.fingerprint`)."""
        return {"kind": "graph", "featurizer": self.featurizer.to_dict(), **self.input, "seed": self.seed,
                "train": data_hash(self.train), "validation": data_hash(self.val)}

    def _graphs(self, cut: Sequence[Any], labels: np.ndarray) -> list[Any]:
        return [self.featurizer.graph(f, label) for f, label in zip(cut, labels)]

    def train_samples(self, epoch: int) -> list[Any]:
        rng = np.random.default_rng([self.seed, 1, epoch])
        return self._graphs(*sample_windows(self.train.frames, self.train.labels, self.window, rng,
                                            self.windows_per_frame))

    def val_samples(self) -> list[Any]:
        if self._val is None and self.val is not None:
            self._val = self.samples(self.val, self.seed)
        return self._val or []

    def samples(self, data: LabelledFrames, seed: int) -> list[Any]:
        """Fixed evaluation samples of ``data``: windows drawn from ``seed`` alone."""
        return self._graphs(*evaluation_windows(data.frames, data.labels, self.window, seed, self.windows_per_frame))

    def frame_samples(self, data: LabelledFrames) -> list[Any]:
        """Whole configurations, as :class:`~mda_glassml.classify.Classifier` applies the model to them."""
        return self._graphs(data.frames, data.labels)

    def labels(self, samples: Sequence[Any]) -> np.ndarray:
        return np.array([float(s.y) for s in samples])

    def collate(self, samples: Sequence[Any]) -> Any:
        from torch_geometric.data import Batch  # noqa: PLC0415

        return Batch.from_data_list(list(samples))


class ImageTask:
    """Rendered images of labelled frames for the CNN.

    Every frame is rendered once (:class:`~mda_glassml.models.render.Renderer`);
    training samples are augmented per epoch, validation and test samples are
    the plain images.

    Parameters
    ----------
    renderer : mda_glassml.models.render.Renderer
    train, val : LabelledFrames
    augment : bool
        Rotations by multiples of 90 degrees and vertical flips (default on).
    shift : bool
        With ``augment``, also a random periodic translation by whole pixels
        (``np.roll``): exact for a periodic frame's picture, which wraps at
        its edges. Off by default (the paper did not translate); it turns
        each training frame into many when frames are few.
    """

    def __init__(self, renderer: Any, train: LabelledFrames, val: LabelledFrames | None, seed: int = 0,
                 augment: bool = True, shift: bool = False) -> None:
        _require_classes(train, val)
        self.featurizer = renderer  # saved in bundles under the same name as a graph featuriser
        self.renderer, self.train, self.val, self.seed, self.augment = renderer, train, val, seed, augment
        self.shift = bool(shift)
        self.train_images = self.render(train)
        self._val = None

    #: What the model sees, for its card: whole configurations.
    input = {"window": None}

    def fingerprint(self) -> dict[str, Any]:
        """What decides this task's samples (see :mod:`mda_glassml.training.fingerprint`)."""
        return {"kind": "image", "renderer": self.renderer.to_dict(), "augment": self.augment,
                **({"shift": True} if self.shift else {}), "seed": self.seed,
                "train": data_hash(self.train), "validation": data_hash(self.val)}

    def render(self, data: LabelledFrames) -> np.ndarray:
        """(n, 3, H, W) uint8 images of ``data``'s frames."""
        return np.ascontiguousarray(self.renderer.images(data.frames).transpose(0, 3, 1, 2))

    def train_samples(self, epoch: int) -> list[tuple[np.ndarray, float]]:
        images = self.train_images
        if self.augment:
            rng = np.random.default_rng([self.seed, 5, epoch])
            turns = rng.integers(0, 4, size=len(images))
            flips = rng.random(len(images)) < 0.5
            images = [np.rot90(im[:, ::-1] if f else im, t, axes=(1, 2)) for im, t, f in zip(images, turns, flips)]
            if self.shift:
                shifts = rng.integers(0, images[0].shape[-1], size=(len(images), 2)) if len(images) else []
                images = [np.roll(im, tuple(s), axis=(1, 2)) for im, s in zip(images, shifts)]
        return [(np.ascontiguousarray(im), float(y)) for im, y in zip(images, self.train.labels)]

    def val_samples(self) -> list[tuple[np.ndarray, float]]:
        if self._val is None and self.val is not None:
            self._val = self.samples(self.val, self.seed)
        return self._val or []

    def samples(self, data: LabelledFrames, seed: int) -> list[tuple[np.ndarray, float]]:
        return [(im, float(y)) for im, y in zip(self.render(data), data.labels)]

    def frame_samples(self, data: LabelledFrames) -> list[tuple[np.ndarray, float]]:
        """Whole configurations, as :class:`~mda_glassml.classify.Classifier` applies the model to them."""
        return self.samples(data, 0)

    def labels(self, samples: Sequence[tuple[np.ndarray, float]]) -> np.ndarray:
        return np.array([y for _, y in samples])

    def collate(self, samples: Sequence[tuple[np.ndarray, float]]) -> torch.Tensor:
        return torch.from_numpy(np.stack([im for im, _ in samples]))
