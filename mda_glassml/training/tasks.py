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

from ..errors import InputError
from ..graphs import window as cut_window
from .data import LabelledFrames, evaluation_windows, sample_windows, window_centers
from .fingerprint import data_hash

__all__ = ["GraphTask", "ImageTask"]


def _require_classes(train: LabelledFrames, val: LabelledFrames | None) -> None:
    train.require_both_classes("the training set")
    if val is not None:
        val.require_both_classes("the validation set")


def _pairs(train: LabelledFrames, consistency: float) -> np.ndarray | None:
    """(m, 2) indices of the training pairs when ``consistency`` asks for them, else None."""
    if isinstance(consistency, bool) or not isinstance(consistency, (int, float, np.integer, np.floating)) or not (
            0 <= consistency < np.inf):
        raise InputError(f"consistency must be a finite number >= 0, got {consistency!r}.")
    if not consistency:
        return None
    if train.partner is None or np.any(train.partner < 0):
        raise InputError("consistency > 0 trains on pairs of views of one configuration: every training "
                         "configuration needs a partner (LabelledFrames.partner), e.g. its inherent structure.")
    first = np.flatnonzero(np.arange(len(train)) < train.partner)
    return np.column_stack([first, train.partner[first]])


def _unpair(samples: Sequence[Any]) -> tuple[list[Any], np.ndarray | None]:
    """Pairs ``(a, b, y)`` as their views -- every ``a``, then every ``b``, so that a batch's logits of a
    pair are ``z[:n]`` and ``z[n:]`` -- and their labels; other samples as they are, and None."""
    if len(samples) and isinstance(samples[0], tuple) and len(samples[0]) == 3:
        return [s[0] for s in samples] + [s[1] for s in samples], np.array([s[2] for s in samples] * 2, float)
    return list(samples), None


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
    consistency : float
        Above 0, train on the pairs ``train.partner`` names, both views of a
        pair cut at the same window centre, with this weight on the squared
        difference of their logits (see the module's docstring).
    """

    def __init__(self, featurizer: Any, train: LabelledFrames, val: LabelledFrames | None,
                 window: float | None, seed: int = 0, windows_per_frame: int = 1, consistency: float = 0.0) -> None:
        _require_classes(train, val)
        if isinstance(windows_per_frame, bool) or int(windows_per_frame) != windows_per_frame or windows_per_frame < 1:
            raise InputError(f"windows_per_frame must be a positive integer, got {windows_per_frame!r}.")
        self.featurizer, self.train, self.val = featurizer, train, val
        self.window, self.seed, self.windows_per_frame = window, seed, int(windows_per_frame)
        self.pairs, self.consistency = _pairs(train, consistency), float(consistency)
        self._val = None

    @property
    def input(self) -> dict[str, Any]:
        """What the model sees, for its card: the window side (None: whole frames)."""
        return {"window": None if self.window is None else float(self.window),
                "windows_per_frame": self.windows_per_frame}

    def fingerprint(self) -> dict[str, Any]:
        """What decides this task's samples (see :mod:`mda_glassml.training.fingerprint`)."""
        return {"kind": "graph", "featurizer": self.featurizer.to_dict(), **self.input, "seed": self.seed,
                **({"consistency": self.consistency} if self.consistency else {}),
                "train": data_hash(self.train), "validation": data_hash(self.val)}

    def _graphs(self, cut: Sequence[Any], labels: np.ndarray) -> list[Any]:
        return [self.featurizer.graph(f, label) for f, label in zip(cut, labels)]

    def train_samples(self, epoch: int) -> list[Any]:
        rng = np.random.default_rng([self.seed, 1, epoch])
        if self.pairs is None:
            return self._graphs(*sample_windows(self.train.frames, self.train.labels, self.window, rng,
                                                self.windows_per_frame))
        frames, labels = self.train.frames, self.train.labels
        out = []
        for _ in range(self.windows_per_frame):
            centers = window_centers([frames[i] for i in self.pairs[:, 0]], rng)
            for (a, b), c in zip(self.pairs, centers):
                views = [frames[i] if self.window is None else cut_window(frames[i], self.window, c) for i in (a, b)]
                out.append((*self._graphs(views, labels[[a, b]]), float(labels[a])))
        return out

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
        graphs, y = _unpair(samples)
        return y if y is not None else np.array([float(s.y) for s in graphs])

    def collate(self, samples: Sequence[Any]) -> Any:
        from torch_geometric.data import Batch  # noqa: PLC0415

        return Batch.from_data_list(_unpair(samples)[0])


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
    consistency : float
        Above 0, train on the pairs ``train.partner`` names, both images of a
        pair augmented alike, with this weight on the squared difference of
        their logits (see the module's docstring).
    """

    def __init__(self, renderer: Any, train: LabelledFrames, val: LabelledFrames | None, seed: int = 0,
                 augment: bool = True, shift: bool = False, consistency: float = 0.0) -> None:
        _require_classes(train, val)
        self.featurizer = renderer  # saved in bundles under the same name as a graph featuriser
        self.renderer, self.train, self.val, self.seed, self.augment = renderer, train, val, seed, augment
        self.shift = bool(shift)
        self.pairs, self.consistency = _pairs(train, consistency), float(consistency)
        self.train_images = self.render(train)
        self._val = None

    #: What the model sees, for its card: whole configurations.
    input = {"window": None}

    def fingerprint(self) -> dict[str, Any]:
        """What decides this task's samples (see :mod:`mda_glassml.training.fingerprint`)."""
        return {"kind": "image", "renderer": self.renderer.to_dict(), "augment": self.augment,
                **({"shift": True} if self.shift else {}),
                **({"consistency": self.consistency} if self.consistency else {}), "seed": self.seed,
                "train": data_hash(self.train), "validation": data_hash(self.val)}

    def render(self, data: LabelledFrames) -> np.ndarray:
        """(n, 3, H, W) uint8 images of ``data``'s frames."""
        return np.ascontiguousarray(self.renderer.images(data.frames).transpose(0, 3, 1, 2))

    def train_samples(self, epoch: int) -> list[tuple]:
        """(image, label) per training frame, or (image, partner's image, label) per pair, augmented."""
        units = np.arange(len(self.train_images))[:, None] if self.pairs is None else self.pairs
        views = [[self.train_images[i] for i in units[:, j]] for j in range(units.shape[1])]
        if self.augment:  # one draw per unit: a pair's two images are turned, flipped and shifted alike
            rng = np.random.default_rng([self.seed, 5, epoch])
            turns = rng.integers(0, 4, size=len(units))
            flips = rng.random(len(units)) < 0.5
            shifts = rng.integers(0, self.train_images.shape[-1], size=(len(units), 2)) if self.shift else None
            for images in views:
                images[:] = [np.rot90(im[:, ::-1] if f else im, t, axes=(1, 2))
                             for im, t, f in zip(images, turns, flips)]
                if shifts is not None:
                    images[:] = [np.roll(im, tuple(s), axis=(1, 2)) for im, s in zip(images, shifts)]
        labels = self.train.labels[units[:, 0]]
        return [(*(np.ascontiguousarray(im) for im in ims), float(y)) for *ims, y in zip(*views, labels)]

    def val_samples(self) -> list[tuple[np.ndarray, float]]:
        if self._val is None and self.val is not None:
            self._val = self.samples(self.val, self.seed)
        return self._val or []

    def samples(self, data: LabelledFrames, seed: int) -> list[tuple[np.ndarray, float]]:
        return [(im, float(y)) for im, y in zip(self.render(data), data.labels)]

    def frame_samples(self, data: LabelledFrames) -> list[tuple[np.ndarray, float]]:
        """Whole configurations, as :class:`~mda_glassml.classify.Classifier` applies the model to them."""
        return self.samples(data, 0)

    def labels(self, samples: Sequence[tuple]) -> np.ndarray:
        images, y = _unpair(samples)
        return y if y is not None else np.array([y for _, y in images])

    def collate(self, samples: Sequence[tuple]) -> torch.Tensor:
        images, y = _unpair(samples)
        return torch.from_numpy(np.stack(images if y is not None else [im for im, _ in images]))
