"""P(glass) of frames with a trained model: whole frames, sliding windows, local maps.

:class:`Classifier` wraps a model bundle (a shipped model by name, or any
``model.pt``) and turns frames into probabilities, batching frames (or
windows) for speed. It is what the MDAnalysis analyses, the OVITO modifiers
and ``mda-glassml classify`` call.

Sliding windows (D-MPNN only): squares of side ``window`` on a regular grid
with a stride of half a side, wrapping periodically, so that every particle
lies in about four windows. The frame's probability is the mean over
windows; a particle's *local probability* is the mean over the windows that
contain it — a spatially resolved glassiness.

A model remembers what it was trained on (its card's ``input`` section: the
window side, or whole frames; the readout is part of its architecture). A
D-MPNN with a **summed** readout scales with the number of particles in its
graph, so it is only meaningful on graphs of the size it trained on: such a
model trained on windows refuses whole frames (and windows of another side)
with a message naming the side to use. Models with a mean readout (the
default for window training since this was added, and the shipped models)
apply to whole frames and to windows of any side.

Examples
--------
>>> import gsd.hoomd
>>> from mda_glassml.classify import Classifier
>>> from mda_glassml.data import EXAMPLE_TRAJECTORY
>>> from mda_glassml.frames import Frame
>>> with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
...     hot, cold = Frame.from_gsd(traj[1]), Frame.from_gsd(traj[-1])
>>> clf = Classifier("ka2d-dmpnn")
>>> p = clf.probabilities([hot, cold])
>>> bool(p[0] < 0.5 < p[1])         # T = 1.9 liquid, T = 0.05 glass
True
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from .frames import DensityWarning, Frame, InputError
from .graphs import window as cut_window, window_mask
from .models.bundle import Bundle
from .models.pretrained import load_model

__all__ = ["Classifier", "WindowMap", "DensityWarning", "training_window"]


def training_window(card: dict[str, Any]) -> float | None:
    """The window side (length units) a model trained on, from its card; None for whole frames.

    Cards record it in ``input.window``; bundles written before that record
    only the hyperparameter ``window`` (a fraction of the paper's box side).
    """
    if "input" in card:
        side = card["input"].get("window")
        return None if side is None else float(side)
    fraction = (card.get("hyperparameters") or card.get("params") or {}).get("window")
    if fraction is None:
        return None
    from .training.data import PAPER_BOX_SIDE  # noqa: PLC0415

    return float(fraction) * PAPER_BOX_SIDE


@dataclass
class WindowMap:
    """Sliding-window classification of one frame."""

    probability: float  # mean over windows
    window_probability: np.ndarray  # (n_windows,)
    centers: np.ndarray  # (n_windows, 2)
    local_probability: np.ndarray  # (N,): mean over the windows holding each particle


class Classifier:
    """A trained model applied to frames.

    Parameters
    ----------
    model : str, path or Bundle
        ``"ka2d-dmpnn"`` (default), ``"ka2d-cnn"``, or a bundle file.
    device : str
        torch device ("cpu", "cuda").
    batch_size : int
        Frames (or windows) per forward pass.
    density_tolerance : float
        Warn (:class:`DensityWarning`) when a frame's number density differs
        from the training data's by more than this fraction.
    """

    def __init__(self, model: str | os.PathLike | Bundle = "ka2d-dmpnn", device: str = "cpu",
                 batch_size: int = 8, density_tolerance: float = 0.1) -> None:
        if int(batch_size) != batch_size or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {batch_size!r}.")
        if not density_tolerance > 0:
            raise InputError(f"density_tolerance must be positive, got {density_tolerance!r}.")
        self.bundle = load_model(model, map_location=device)
        self.kind = self.bundle.kind
        self.model = self.bundle.model.to(device).eval()
        self.device, self.batch_size, self.density_tolerance = device, int(batch_size), density_tolerance
        data = self.bundle.card.get("data", {})
        self.train_density = data.get("density")
        self.train_box_side = data.get("box_side")
        self.train_window = training_window(self.card)
        self._warned: set[str] = set()

    @property
    def card(self) -> dict[str, Any]:
        return self.bundle.card

    # -- checks -----------------------------------------------------------
    def check(self, frame: Frame) -> None:
        """Warn once per kind of problem if ``frame`` is outside what the model was trained on."""
        density = frame.n_particles / frame.area
        if self.train_density and abs(density / self.train_density - 1) > self.density_tolerance:
            self._warn("density", f"frame {frame.index}: number density {density:.4g} is far from the "
                                  f"training density {self.train_density:.4g} (more than "
                                  f"{self.density_tolerance:.0%} off): probabilities may be meaningless.")
        if self.kind == "cnn" and self.train_box_side:
            side = math.sqrt(frame.area)
            if abs(side / self.train_box_side - 1) > self.density_tolerance:
                self._warn("box", f"frame {frame.index}: box side {side:.4g} differs from the CNN's training "
                                  f"boxes ({self.train_box_side:.4g}); its images have another particle scale.")

    def check_side(self, side: float, what: str) -> None:
        """Refuse inputs of another size than training for a D-MPNN that sums over particles.

        ``side``: the side of the window (or of the whole frame) about to be
        classified; ``what``: how to name it in the message.
        """
        if self.kind != "dmpnn" or self.model.config.readout != "sum":
            return
        trained = self.train_window or self.train_box_side
        if not trained or abs(side / trained - 1) <= self.density_tolerance:
            return
        on = f"windows of side {trained:.4g}" if self.train_window else f"whole frames of side {trained:.4g}"
        fix = (f"classify with sliding windows of the training side (window={trained:.4g}; "
               f"mda-glassml classify --window {trained:.4g})" if self.train_window else
               f"classify frames of side about {trained:.4g}")
        raise InputError(
            f"this D-MPNN sums its node states (readout='sum') and was trained on {on}: on {what} of side "
            f"{side:.4g} its graph vector is about {(side / trained) ** 2:.3g} times larger than in training "
            f"and P(glass) is meaningless. {fix[0].upper() + fix[1:]}, or retrain it with readout='mean' "
            "(mda-glassml train --readout mean, the default for window training)."
        )

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, DensityWarning, stacklevel=3)

    # -- whole frames -----------------------------------------------------
    @torch.no_grad()
    def logits(self, frames: Sequence[Frame]) -> np.ndarray:
        """The model's logit per frame (batched)."""
        out = []
        for start in range(0, len(frames), self.batch_size):
            part = list(frames[start:start + self.batch_size])
            for f in part:
                self.check(f)
                self.check_side(math.sqrt(f.area), "whole frames" if f.periodic else "windows")
            out.append(self.model(self._collate(part)).double().cpu().numpy())
        return np.concatenate(out) if out else np.empty(0)

    def probabilities(self, frames: Sequence[Frame]) -> np.ndarray:
        """P(glass) per frame."""
        return 0.5 * (1.0 + np.tanh(0.5 * self.logits(frames)))

    def _collate(self, frames: Sequence[Frame]) -> Any:
        if self.kind == "cnn":
            images = self.bundle.featurizer.images(frames).transpose(0, 3, 1, 2)
            return torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        from torch_geometric.data import Batch  # noqa: PLC0415

        graphs = [self.bundle.featurizer.graph(f) for f in frames]
        return Batch.from_data_list(graphs).to(self.device)

    # -- attention --------------------------------------------------------
    def attention(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        """The D-MPNN's directed edges (2, E) of ``frame`` and their attention weights (sum 1).

        The input of :func:`mda_glassml.attention.attention_graph`.
        """
        if self.kind != "dmpnn" or not self.model.config.attention:
            raise InputError("attention needs a D-MPNN built with attention; this model is a "
                             f"{self.kind}{'' if self.kind != 'dmpnn' else ' without attention'}.")
        self.check(frame)
        ((edges, weights),) = self.model.attention_per_graph(self._collate([frame]))
        return edges, weights

    # -- sliding windows --------------------------------------------------
    def window_map(self, frame: Frame, side: float, stride: float | None = None) -> WindowMap:
        """Classify windows of ``side`` on a grid (stride ``side / 2``); see the module docstring."""
        if self.kind != "dmpnn":
            raise InputError("sliding windows need a graph model (a D-MPNN): a CNN sees whole configurations.")
        self.check(frame)
        self.check_side(float(side), "windows")
        stride = side / 2 if stride is None else float(stride)
        if not stride > 0:
            raise InputError(f"window stride must be positive, got {stride}.")
        lx, ly = frame.box.Lx, frame.box.Ly
        nx, ny = max(1, math.ceil(lx / stride)), max(1, math.ceil(ly / stride))
        gx = -lx / 2 + (np.arange(nx) + 0.5) * lx / nx
        gy = -ly / 2 + (np.arange(ny) + 0.5) * ly / ny
        centers = np.stack(np.meshgrid(gx, gy, indexing="ij"), -1).reshape(-1, 2)
        windows = [cut_window(frame, side, c) for c in centers]
        logits = []
        for start in range(0, len(windows), self.batch_size * 8):
            with torch.no_grad():
                logits.append(self.model(self._collate(windows[start:start + self.batch_size * 8])).double().cpu())
        p = 0.5 * (1.0 + np.tanh(0.5 * torch.cat(logits).numpy()))
        total = np.zeros(frame.n_particles)
        count = np.zeros(frame.n_particles)
        for c, pw in zip(centers, p):
            inside = window_mask(frame, side, c)
            total[inside] += pw
            count[inside] += 1
        local = np.divide(total, count, out=np.full(frame.n_particles, np.nan), where=count > 0)
        return WindowMap(float(p.mean()), p, centers, local)
