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
apply to whole frames and to windows of the training side or larger; on
smaller windows they see less and are less sure either way, and a warning
says so.

Frames of another size for a CNN: its pictures have the scale of its
training boxes, so a frame of another side (or a rectangular one) is seen
as square tiles of the training side -- periodic images of a smaller frame
(a 30 x 30 box as its 2 x 2 replica for a CNN of 60 x 60 boxes), a grid of
windows of a larger one -- and its logit is the mean over tiles
(:meth:`Classifier.cnn_tiles`).

Two views, two calibrations: a model trained on thermal frames and their
inherent structures together ranks each view well but places its logits
differently on each, so its card holds one Platt fit per view and the
classifier picks the fit by the frame's view, told from its forces
(``view="auto"``; :func:`mda_glassml.potential.is_inherent_structure`).
The ranking within a view, hence its AUC, does not change.

Huge frames: a D-MPNN classifies a frame of more than ``tile_nodes``
particles (default 16384) tile by tile (:mod:`mda_glassml.models.tiled`):
exactly the same probability, with a peak memory set by ``tile_nodes``
instead of the frame's size. Smaller frames are batched, ``batch_size`` at a
time. Sliding windows are batched by the same budget of particles.

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

import copy
import math
import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from .errors import InputError, warn
from .frames import DensityWarning, Frame
from .graphs import check_window_side, pairs_within, square_tiles, windows_at
from .models.bundle import Bundle
from .models.device import torch_device
from .models.pretrained import load_model
from .models.tiled import DEFAULT_TILE_NODES, TiledGraph, check_tile_nodes, tiled_logit
from .potential import VIEWS
from .potential import views as potential_views
from .simulation.protocol import KAModel
from .training.calibration import sigmoid

__all__ = ["Classifier", "Crossing", "WindowMap", "DensityWarning", "crossing_temperature", "training_window"]


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


#: Nearest neighbours closer than this (in the KA unit of length) mean overlapping particles: the closest pair
#: of every frame of the bundled cooling run is 0.71-0.82 apart (0.71 at T = 2); KA's A-B diameter is 0.8.
OVERLAP_DISTANCE = 0.5

@dataclass
class WindowMap:
    """Sliding-window classification of one frame."""

    probability: float  # mean over windows
    window_probability: np.ndarray  # (n_windows,)
    centers: np.ndarray  # (n_windows, 2)
    local_probability: np.ndarray  # (N,): mean over the windows holding each particle


#: Classifier warns when its model's card reports a validation AUC below this.
WEAK_AUC = 0.6

#: Default relative density tolerance. The shipped models were trained at one density (1.2) and read it: on the
#: bundled run, 1 % denser moves the D-MPNN's crossing temperature from 0.399 to 0.355 and the CNN's from 0.388
#: to 0.415; 2 % denser, 0.307 and 0.481 (3 % less dense: 0.548 and 0.195).
DENSITY_TOLERANCE = 0.01

#: Relative tolerance on sides (CNN boxes drawn whole, windows smaller than training, summing D-MPNNs).
SIDE_TOLERANCE = 0.1

#: Classifier.attention warns on graphs whose side exceeds the training window's by more than this factor.
ATTENTION_SIDE_RATIO = 1.5


def _frame_list(frames: Any) -> list[Frame]:
    """``frames`` as a list of Frames (one Frame is a list of one), or an InputError saying what to give."""
    if isinstance(frames, Frame):
        return [frames]
    try:
        frames = list(frames)
    except TypeError:
        frames = [frames]
    bad = [type(f).__name__ for f in frames if not isinstance(f, Frame)]
    if bad:
        raise InputError(f"expected Frames (mda_glassml.Frame: Frame.from_gsd, Frame.from_atomgroup, ...), got "
                         f"{bad[0]}; for an MDAnalysis trajectory use mda_glassml.analysis.GlassClassifier.")
    return frames


class Classifier:
    """A trained model applied to frames.

    Parameters
    ----------
    model : str, path or Bundle
        ``"ka2d-dmpnn"`` (default), ``"ka2d-cnn"``, or a bundle file.
    device : str
        ``"cpu"``, ``"cuda"`` (``"cuda:N"``) or ``"auto"`` (the GPU if there
        is one); asking for CUDA without one is an :class:`InputError`.
    batch_size : int
        Frames per forward pass.
    density_tolerance : float
        Warn (:class:`DensityWarning`) when a frame's number density differs
        from the training data's by more than this fraction (default 1 %; for
        an open window, plus ``1 / sqrt(n)`` with ``n`` the count the training
        density expects in it: a small window's count fluctuates). The
        shipped models were trained at one density and read it: 1 % denser
        moves the D-MPNN's crossing temperature on the bundled run from 0.399
        to 0.355, 2 % to 0.307 (CNN: 0.388, 0.415, 0.481).
    tile_nodes : int
        D-MPNN: frames of more particles are classified in spatial tiles of
        about this many (exact, memory bounded; see the module docstring),
        and sliding windows are batched up to this many particles a pass.
    threads : int, optional
        torch's CPU threads (process-wide: ``torch.set_num_threads``).
    inherent : {"lammps", "hoomd"}, optional
        Classify each frame's inherent structure instead of the frame: the
        frame is FIRE-minimised with the Kob–Andersen potential by this engine
        first (:func:`mda_glassml.simulation.inherent.inherent_frames`; 15–60 s
        per 4320-particle frame). Thermal vibration is then gone, and only the
        structure decides. Whole periodic square frames only. HOOMD-blue
        minimises on the CPU when the model runs there and takes a GPU when
        the model runs on one (warning if HOOMD-blue finds none).
    compile : bool
        Run the model's hot steps through ``torch.compile`` (the D-MPNN's
        per-edge updates and scores, the CNN's forward pass): the same
        results to floating-point noise, measured 1.1 to 1.3 times faster
        on frames of 10⁵ to 10⁶ particles, where eager per-edge tensors
        outgrow the CPU cache (no gain at 10⁴). The first frame pays the
        compilation (about 30 s; 5 s once TorchInductor's disk cache holds
        it; every parallel worker compiles its own), so it pays on long
        trajectories of big frames. Needs a C++ compiler on a CPU; without
        one a :class:`~mda_glassml.models.compiled.CompileWarning` says so
        once and the eager code runs (:mod:`mda_glassml.models.compiled`).
        The model is compiled on a shallow copy: a ``Bundle`` passed in
        stays as it was.
    view : {"auto", "thermal", "inherent"}
        Which calibration to apply, for a model whose card has one per view
        (``calibration["views"]``: the shipped models; fitted on validation
        thermal frames and inherent structures apart, see
        :func:`~mda_glassml.training.pipeline.train_model`). ``"auto"``
        (default) tells each frame's view by its forces
        (:func:`mda_glassml.potential.is_inherent_structure`: an inherent
        structure sits at a minimum of the Kob–Andersen potential; 2 ms per
        frame). With ``inherent`` set, frames are minimised first and the view
        is ``"inherent"``. An open window (no periodic box, so no forces) gets
        the single pooled calibration, with a warning, unless ``view`` names one.
    """

    def __init__(self, model: str | os.PathLike | Bundle = "ka2d-dmpnn", device: str = "cpu",
                 batch_size: int = 8, density_tolerance: float = DENSITY_TOLERANCE,
                 tile_nodes: int = DEFAULT_TILE_NODES,
                 threads: int | None = None, inherent: str | None = None, compile: bool = False,
                 view: str = "auto") -> None:
        if view not in ("auto", *VIEWS):
            raise InputError(f"view must be 'auto', 'thermal' or 'inherent', got {view!r}.")
        if inherent is not None and view == "thermal":
            raise InputError("view='thermal' contradicts inherent=...: frames minimised first are inherent "
                             "structures. Drop one of the two.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {batch_size!r}.")
        if isinstance(density_tolerance, bool) or not isinstance(density_tolerance, (int, float, np.number)) \
                or not density_tolerance > 0:
            raise InputError(f"density_tolerance must be a positive number, got {density_tolerance!r}.")
        if not isinstance(compile, bool):
            raise InputError(f"compile must be True or False, got {compile!r}.")
        self.tile_nodes = check_tile_nodes(tile_nodes)
        if inherent is not None:
            from .simulation.campaign import check_engine  # noqa: PLC0415

            check_engine(inherent)  # a missing engine fails here, before any frame
        self.inherent = inherent
        if threads is not None:
            if int(threads) != threads or threads < 1:
                raise InputError(f"threads must be a positive integer, got {threads!r}.")
            torch.set_num_threads(int(threads))
        device = torch_device(device)
        # HOOMD-blue's device follows the model's: quiet on a CPU, a GPU when the model has one.
        self._engine_device = "cpu" if device.type == "cpu" else "auto"
        self.bundle = load_model(model, map_location=device)
        self.kind = self.bundle.kind
        self.model = self.bundle.model.to(device).eval()
        if compile:
            # A shallow copy shares the weights: the caller's bundle stays uncompiled.
            self.model = copy.copy(self.model).compile_steps()
        self.device, self.batch_size, self.density_tolerance = device, int(batch_size), density_tolerance
        data = self.bundle.card.get("data", {})
        self.train_density = data.get("density")
        self.train_box_side = data.get("box_side")
        self.train_window = training_window(self.card)
        # Every model here is trained on the Kob-Andersen 65:35 mixture; a card may say otherwise.
        self.train_fraction_a = float(data.get("fraction_a", KAModel().fraction_a))
        # Calibration fitted on validation data at training (training/calibration.py): P = sigmoid(z / T + b).
        cal = self.card.get("calibration", {})
        self.temperature, self.bias = float(cal.get("temperature", 1.0)), float(cal.get("bias", 0.0))
        # One fit per view where the card has them (cards before them: the pooled fit for every frame).
        self.view_calibration = {v: (float(c["temperature"]), float(c["bias"]))
                                 for v, c in cal.get("views", {}).items()}
        self.view = "inherent" if inherent is not None else view
        self._warned: set[Any] = set()  # keys of the warnings given (a kind, or a kind and a band of values)
        auc = (self.card.get("scores") or {}).get("validation_auc")
        if auc is not None and float(auc) < WEAK_AUC:
            # A model trained badly still loads: users should not read its P(glass) as an answer.
            self._warn("weak", f"this model's validation AUC is {float(auc):.3g} (0.5 is chance): it barely tells "
                               "glass from liquid, so its P(glass) means little. Train longer or on more data, or "
                               "use a shipped model.")
        if view != "auto" and not self.view_calibration:
            self._warn("view_ignored", f"view={view!r} changes nothing for this model: its card has one calibration for "
                               "thermal frames and inherent structures alike (no calibration['views']).")

    @property
    def card(self) -> dict[str, Any]:
        return self.bundle.card

    # -- checks -----------------------------------------------------------
    def check(self, frame: Frame, closest: float | None = None) -> None:
        """Warn if ``frame`` is outside what the model was trained on: once per kind of problem and band of values
        (density: 2 % bands; overlaps: closest distance to 0.1), so another file at another density warns again.

        ``closest``: the frame's smallest pair distance when already known (a
        D-MPNN graph has every particle's nearest neighbour among its edges);
        the search for overlapping pairs then runs only if it is below
        :data:`OVERLAP_DISTANCE`.
        """
        where = "a frame" if frame.index is None else f"frame {frame.index}"
        if frame.n_particles == 0:
            raise InputError(f"{where} has no particles{'' if frame.periodic else ' (an empty window)'}.")
        density = frame.n_particles / frame.area
        tolerance = self.density_tolerance
        if self.train_density and not frame.periodic:
            # An open window's count fluctuates even at the right density. Measured on the bundled glass, side 6
            # (43 particles expected): sd 3.9 %, max 12 % of 400 windows. Widen by a Poisson standard error of the
            # expected count (15 % there, about 4 real ones), so that only a real mismatch warns.
            tolerance += 1.0 / math.sqrt(max(self.train_density * frame.area, 1.0))
        if self.train_density and abs(density / self.train_density - 1) > tolerance:
            # once per 2 % band of density: a run warns once, another run at another density again
            self._warn(("density", round(math.log(density / self.train_density) / 0.02)),
                       f"{where}: number density {density:.4g} is {abs(density / self.train_density - 1):.1%} "
                       f"{'above' if density > self.train_density else 'below'} the training density "
                       f"{self.train_density:.4g} (tolerance {tolerance:.1%}): the shipped models read density "
                       "(1 % off moves their crossing temperature by 0.02-0.05), so P(glass) may be wrong.")
        n_b = int(frame.types.sum())
        fraction = n_b / frame.n_particles
        expected = 1.0 - self.train_fraction_a
        # 0.1 plus three binomial standard errors: a window's composition fluctuates; swapped types are 0.3 off.
        if abs(fraction - expected) > 0.1 + 3 * math.sqrt(expected * (1 - expected) / frame.n_particles):
            b = frame.type_names[1]
            self._warn("composition", f"{where}: {fraction:.0%} of the particles are B (b_type={b!r}), but the "
                                      f"model was trained on the Kob-Andersen mixture with {expected:.0%} B: "
                                      + ("are a_type and b_type swapped? " if abs(fraction - (1 - expected)) < 0.1
                                         else "")
                                      + "P(glass) is meaningless for another composition.")
        if closest is not None and closest >= OVERLAP_DISTANCE:
            return
        # A radius query, not the exact kNN: a threshold needs no float64 ranking, and this runs on every frame.
        i, j, d = pairs_within(frame, OVERLAP_DISTANCE)
        if d.size:
            self._warn(("overlap", round(float(d.min()), 1)),
                       f"{where}: {np.unique(np.r_[i, j]).size} particles have a neighbour closer than "
                       f"{OVERLAP_DISTANCE} (closest {float(d.min()):.3g}; in Kob-Andersen liquids and "
                       "glasses up to T = 2 no pair comes closer than about 0.7): the configuration overlaps "
                       "unphysically (compressed? other length units? the wrong box?), so P(glass) is "
                       "meaningless.")

    def check_temperature(self, temperature: float, where: str = "a frame") -> None:
        """Warn once if ``temperature`` lies far outside the temperatures the model was trained on.

        The range comes from the card (``data.temperatures``); cards without
        it mean the protocol's T = 0.05 ... 2.0. "Far" is below half the
        lowest or above 1.25 times the highest.
        """
        temps = self.card.get("data", {}).get("temperatures") or [0.05, 2.0]
        lo, hi = float(min(temps)), float(max(temps))
        if np.isfinite(temperature) and not 0.5 * lo <= temperature <= 1.25 * hi:
            self._warn(("temperature", temperature < lo),
                       f"{where}: temperature {temperature:.4g} is far outside the model's training "
                       f"temperatures ({lo:.4g} to {hi:.4g}): P(glass) is an extrapolation.")

    def check_side(self, side: float, what: str) -> None:
        """Refuse inputs of another size than training for a D-MPNN that sums over particles.

        ``side``: the side of the window (or of the whole frame) about to be
        classified; ``what``: how to name it in the message.
        """
        if self.kind != "dmpnn":
            return
        if self.model.config.readout != "sum":
            if self.train_window and side < (1 - SIDE_TOLERANCE) * self.train_window:
                # Measured with the shipped ka2d-dmpnn on the bundled T = 0.05 glass (window_map, stride side / 2).
                self._warn("small_window", f"{what} of side {side:.4g} are smaller than the windows this model was "
                           f"trained and calibrated on ({self.train_window:.4g}): it sees less of the structure "
                           "and is less sure either way (on the bundled T = 0.05 glass, the shipped ka2d-dmpnn "
                           "gives mean P(glass) 0.35, 0.79 and 0.96 on windows of side 4, 8 and 12).")
            return
        trained = self.train_window or self.train_box_side
        if not trained or abs(side / trained - 1) <= SIDE_TOLERANCE:
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

    def _warn(self, key: Any, message: str, category: type[Warning] = DensityWarning) -> None:
        """Warn once per ``key`` (a kind of problem, or a kind and a band of values) for this classifier."""
        if key not in self._warned:
            self._warned.add(key)
            warn(message, category, key=key)

    # -- whole frames -----------------------------------------------------
    @torch.inference_mode()
    def logits(self, frames: Sequence[Frame]) -> np.ndarray:
        """The model's logit per frame (batched; huge frames tile by tile)."""
        frames = _frame_list(frames)
        if not frames:
            return np.empty(0)
        out = np.empty(len(frames))
        # A D-MPNN's graphs of the frames themselves hold each particle's nearest neighbour: the overlap
        # check reads their edge lengths instead of searching again (a tenth of the time at N = 4320).
        graphs_first = self.kind == "dmpnn" and not self.inherent
        for f in frames:
            self.check(f, closest=np.inf if graphs_first else None)  # the density here, overlaps below
            self.check_side(math.sqrt(f.area), "whole frames" if f.periodic else "windows")
        if self.inherent:
            from .simulation.inherent import inherent_frames  # noqa: PLC0415

            frames = inherent_frames(frames, self.inherent, device=self._engine_device,
                                     progress=len(frames) > 1)[0]
        if self.kind == "cnn":
            return self._cnn_logits(frames)
        huge = [i for i, f in enumerate(frames) if self.kind == "dmpnn" and f.n_particles > self.tile_nodes]
        for i in huge:
            graph = TiledGraph.from_frame(self.bundle.featurizer, frames[i], self.tile_nodes)
            if graphs_first:
                self.check(frames[i], closest=float(graph.distance.min()))
            out[i] = float(tiled_logit(self.model, graph))
        rest = np.setdiff1d(np.arange(len(frames)), huge)
        for start in range(0, len(rest), self.batch_size):
            idx = rest[start:start + self.batch_size]
            part = [frames[i] for i in idx]
            batch = self._collate(part)
            if graphs_first:
                closest = float(batch.distance.min())
                for f in part:  # all clear, or each frame searched for its overlaps (rare)
                    self.check(f, closest=closest if closest >= OVERLAP_DISTANCE else None)
            out[idx] = self.model(batch).double().cpu().numpy()
        return out

    def cnn_tiles(self, frame: Frame) -> list[Frame]:
        """What the CNN sees of ``frame``: the frame, or square tiles of its training box side.

        A CNN's pictures have the scale of its training boxes (pixels per unit
        length), so a frame of another size (or shape) is seen as tiles of the
        training side (:func:`mda_glassml.graphs.square_tiles`: periodic
        images of a smaller frame, a grid of windows of a larger one). Square
        frames within 10 % (``SIDE_TOLERANCE``) of that side are drawn whole.
        """
        side = self.train_box_side
        box = frame.box
        if side and not frame.periodic and abs(box.Lx / side - 1) > SIDE_TOLERANCE:
            # An open window is drawn whole: at another side than training, at another scale.
            raise InputError(
                f"this CNN sees pictures at the scale of its training boxes (side {side:.4g}): a window of side "
                f"{box.Lx:.4g} would be drawn {max(side / box.Lx, box.Lx / side):.3g} times "
                f"{'enlarged' if box.Lx < side else 'shrunk'} and P(glass) would be meaningless. "
                f"Classify the whole periodic frame (frames of any size are seen as tiles of side {side:.4g}), "
                f"or a window of side {side:.4g}.")
        if (not side or not frame.periodic or (abs(box.xy) < 1e-12 and abs(box.Lx / side - 1) <= SIDE_TOLERANCE
                                               and abs(box.Ly / side - 1) <= SIDE_TOLERANCE)):
            return [frame]
        shorter = min(float(box.Lx), float(box.Ly))
        if shorter < (1 - SIDE_TOLERANCE) * side:
            # its tile is the frame's periodic images side by side: a repeating picture no training box had
            self._warn(("cnn_small", round(shorter, 1)),
                       f"this frame's box ({shorter:.4g} across) is smaller than the CNN's training boxes (side "
                       f"{side:.4g}): it is seen as a tile of its periodic images, {side / shorter:.2g} copies a "
                       "side, a structure repeating within the picture that training never showed, so P(glass) "
                       f"may be wrong. Classify frames of side {side:.4g} or more, or use the D-MPNN.")
        return square_tiles(frame, side)

    def _cnn_logits(self, frames: list[Frame]) -> np.ndarray:
        # The mean logit over a frame's tiles (one tile for a frame of the training size).
        tiles = [self.cnn_tiles(f) for f in frames]
        flat = [t for group in tiles for t in group]
        z = np.empty(len(flat))
        for start in range(0, len(flat), self.batch_size):
            z[start:start + self.batch_size] = self.model(self._collate(flat[start:start + self.batch_size])
                                                          ).double().cpu().numpy()
        bounds = np.cumsum([0] + [len(g) for g in tiles])
        return np.array([z[a:b].mean() for a, b in zip(bounds[:-1], bounds[1:])])

    def probabilities(self, frames: Sequence[Frame]) -> np.ndarray:
        """P(glass) per frame (calibrated as the model's card says, if it has a calibration; per view if it
        has one per view)."""
        frames = _frame_list(frames)
        if not frames:
            return np.empty(0)
        views = self.views(frames)  # of the frames given: minimised ones (inherent=...) are inherent anyway
        return self.calibrated(self.logits(frames), views)

    def views(self, frames: Sequence[Frame]) -> np.ndarray | None:
        """The view of each frame that picks its calibration ("thermal" or "inherent"), or None for a card with
        one calibration for all (then nothing is computed)."""
        frames = _frame_list(frames)
        if not self.view_calibration:
            return None
        if self.view != "auto":
            return np.full(len(frames), self.view, dtype=object)
        out = np.full(len(frames), None, dtype=object)
        periodic = [i for i, f in enumerate(frames) if f.periodic]
        if len(periodic) < len(frames):
            self._warn("view", "an open window has no periodic box, so whether it is an inherent structure cannot "
                               "be told from its forces: its P(glass) uses the single calibration fitted on both "
                               "views. Pass view='thermal' or view='inherent' if you know it (or classify the whole "
                               "frame with window_map).")
        if periodic:
            try:
                out[periodic] = potential_views([frames[i] for i in periodic])
            except InputError as err:  # a box too small for the potential's cutoff
                raise InputError(f"{err} view='auto' tells a thermal frame from an inherent structure by its "
                                 "forces: pass view='thermal' or view='inherent' (--view) to skip that.") from None
        return out

    def calibrated(self, logits: Any, views: Any = None) -> np.ndarray:
        """P(glass) of raw logits: ``sigmoid(logit / temperature + bias)`` from the card (1 and 0 if none).

        ``views`` (one per logit, or one for all; see :meth:`views`) picks each
        logit's calibration where the card has one per view; None (for a
        logit) means the pooled one.
        """
        z = np.asarray(logits, dtype=np.float64)
        if views is None:
            return sigmoid(z / self.temperature + self.bias)
        v = np.asarray(views, dtype=object)
        if v.ndim > 1 or v.size not in (1, z.size):
            raise InputError(f"views must be one view for all logits or one per logit: got {v.size} for {z.size}.")
        v = np.broadcast_to(v.reshape(-1) if v.size > 1 else v.reshape(()), z.shape)
        unknown = set(v.ravel()) - set(VIEWS) - {None}
        if unknown:
            raise InputError(f"unknown view(s) {sorted(map(str, unknown))}: views are {list(VIEWS)} (or None for "
                             "the pooled fit).")
        if not self.view_calibration:  # a card with one calibration for every view
            return sigmoid(z / self.temperature + self.bias)
        pooled = (self.temperature, self.bias)
        t = np.array([self.view_calibration.get(x, pooled)[0] for x in v.ravel()]).reshape(z.shape)
        b = np.array([self.view_calibration.get(x, pooled)[1] for x in v.ravel()]).reshape(z.shape)
        return sigmoid(z / t + b)

    def _collate(self, frames: Sequence[Frame]) -> Any:
        if self.kind == "cnn":
            images = self.bundle.featurizer.images(frames).transpose(0, 3, 1, 2)
            return torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        return self.bundle.featurizer.batch(frames).to(self.device)

    # -- attention --------------------------------------------------------
    def check_attention(self) -> None:
        """Refuse a model that has no attention weights to read (a CNN, or a D-MPNN without attention or depth)."""
        if self.kind != "dmpnn" or not self.model.config.attention:
            raise InputError("attention needs a D-MPNN built with attention; this model is a "
                             f"{self.kind}{'' if self.kind != 'dmpnn' else ' without attention'}.")
        if self.model.config.depth < 2:
            raise InputError("attention needs a D-MPNN of depth 2 or more: this one has depth 1, no message passing "
                             "step, hence no attention weights.")

    def attention(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        """The D-MPNN's directed edges (2, E) of ``frame`` and their attention weights (sum 1).

        The input of :func:`mda_glassml.attention.attention_graph`. The
        frame is read as given: a classifier made with ``inherent=`` refuses
        (pass the inherent structures themselves, e.g. a campaign's
        ``*_is.gsd``).
        """
        self.check_attention()
        if not isinstance(frame, Frame):
            raise InputError(f"attention takes one Frame (Frame.from_atomgroup, Frame.from_gsd, graphs.window, ...), "
                             f"got {type(frame).__name__}; for an MDAnalysis trajectory use "
                             "mda_glassml.analysis.AttentionGraphMetrics.")
        if self.inherent:
            # probabilities() and window_map() minimise first; attention of the thermal frame would pass for it
            raise InputError(f"attention reads the frame as given, but this classifier was made with "
                             f"inherent={self.inherent!r}: its weights would be those of the thermal frame. Pass the "
                             "inherent structure itself (a campaign's *_is.gsd, or "
                             "mda_glassml.simulation.inherent.inherent_frames) to a Classifier without inherent=.")
        self.check(frame)
        side, trained = math.sqrt(frame.area), self.train_window
        if trained and side > ATTENTION_SIDE_RATIO * trained:
            # Rescaling divides by the graph's range: a larger graph holds more extreme edges, so its strongest
            # edge sets a scale the windows of training never had (a periodic copy of a frame changes nothing).
            self._warn("attention_size", f"a graph of side {side:.4g} is {side / trained:.3g} times the side of the "
                       f"windows this model learnt its attention on ({trained:.4g}): rescaled to [0.1, 4.1] by its "
                       "range, a larger graph is set by its few most extreme edges, so its attention graph is not the "
                       "one of the training windows (ka2d-dmpnn-paper on the bundled T = 0.05 glass: 2788 of 2808 A "
                       "particles isolated in the whole frame, 0 of 110 in its central window of side 12). Cut windows "
                       f"of the training side: AttentionGraphMetrics(..., window={trained:.4g}).")
        ((edges, weights),) = self.model.attention_per_graph(self._collate([frame]))
        return edges, weights

    # -- sliding windows --------------------------------------------------
    def window_map(self, frame: Frame, side: float, stride: float | None = None) -> WindowMap:
        """Classify windows of ``side`` on a grid (stride ``side / 2``); see the module docstring."""
        if self.kind != "dmpnn":
            raise InputError("sliding windows need a graph model (a D-MPNN): a CNN sees whole configurations.")
        self.check(frame)
        side = check_window_side(frame, side)
        stride = side / 2 if stride is None else float(stride)
        if not (math.isfinite(stride) and 0 < stride <= side):
            raise InputError(f"window stride must be a positive length no larger than the window side {side:.4g} "
                             f"(a larger one leaves particles in no window), got {stride}.")
        self.check_side(side, "windows")
        views = self.views([frame])  # the whole frame's: every window of it is of the same view
        view = None if views is None else views[0]
        if self.inherent:  # minimise the whole frame, then cut windows: particles keep their indices
            from .simulation.inherent import inherent_frames  # noqa: PLC0415

            frame = inherent_frames([frame], self.inherent, device=self._engine_device)[0][0]
        lx, ly = frame.box.Lx, frame.box.Ly
        nx, ny = max(1, math.ceil(lx / stride)), max(1, math.ceil(ly / stride))
        gx = -lx / 2 + (np.arange(nx) + 0.5) * lx / nx
        gy = -ly / 2 + (np.arange(ny) + 0.5) * ly / ny
        centers = np.stack(np.meshgrid(gx, gy, indexing="ij"), -1).reshape(-1, 2)
        p = np.empty(len(centers))
        total = np.zeros(frame.n_particles)
        count = np.zeros(frame.n_particles)
        batch: list[tuple[int, Frame, np.ndarray]] = []

        def flush() -> None:
            with torch.inference_mode():
                logit = self.model(self._collate([w for _, w, _ in batch])).double().cpu().numpy()
            for (k, _, members), z in zip(batch, logit):
                p[k] = self.calibrated(z, view)
                total[members] += p[k]
                count[members] += 1
            batch.clear()

        # Windows are cut from nearby grid cells only (graphs.windows_at: O(N) in all, not O(N) a window),
        # and batched up to tile_nodes particles a forward pass.
        in_batch = 0
        for k, (cut, members) in enumerate(windows_at(frame, side, centers)):
            batch.append((k, cut, members))
            in_batch += members.size
            if in_batch >= self.tile_nodes:
                flush()
                in_batch = 0
        if batch:
            flush()
        local = np.divide(total, count, out=np.full(frame.n_particles, np.nan), where=count > 0)
        return WindowMap(float(p.mean()), p, centers, local)


@dataclass(frozen=True)
class Crossing:
    """Where P(glass) crosses a level along temperature (:func:`crossing_temperature`).

    ``temperature`` is NaN when P(glass) never crosses; ``reason`` then says
    which side it stayed on. ``width`` is the fitted logistic's width (how
    sharply the model switches, in units of T).
    """

    temperature: float
    width: float
    reason: str | None = None


def crossing_temperature(temperatures: Any, p_glass: Any, level: float = 0.5) -> Crossing:
    """The temperature at which P(glass) crosses ``level`` on cooling: a logistic fit of P against T.

    ``p = 1 / (1 + exp((T - Tc) / w))`` is fitted by least squares to every
    point (several runs' records may be passed together), started from the
    first crossing met coming down from the hottest record, so that a noisy,
    non-monotonic curve still gives one number. Compare it with the Tg of the
    same runs' inherent-structure energies (:mod:`mda_glassml.simulation.tg`).

    Examples
    --------
    >>> import numpy as np
    >>> T = np.linspace(0.05, 1.0, 20)
    >>> c = crossing_temperature(T, 1 / (1 + np.exp((T - 0.4) / 0.03)))
    >>> round(c.temperature, 3), round(c.width, 3)
    (0.4, 0.03)
    >>> crossing_temperature(T, np.zeros(20)).reason
    'P(glass) stays below 0.5 at every temperature (max 0)'
    """
    from scipy.optimize import least_squares  # noqa: PLC0415

    t = np.asarray(temperatures, dtype=np.float64).ravel()
    p = np.asarray(p_glass, dtype=np.float64).ravel()
    if not 0 < level < 1:
        raise InputError(f"level must lie strictly between 0 and 1, got {level}")
    if t.shape != p.shape or t.size == 0:
        raise InputError(f"temperatures and p_glass must have the same length, got {t.size} and {p.size}")
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise InputError("temperatures and p_glass must be finite")
    if np.unique(t).size < 3:
        raise InputError(f"a crossing needs records at 3 or more temperatures, got {np.unique(t).size}")
    if p.max() < level:
        return Crossing(float("nan"), float("nan"), f"P(glass) stays below {level:g} at every temperature "
                                                    f"(max {p.max():.3g})")
    if p.min() >= level:
        return Crossing(float("nan"), float("nan"), f"P(glass) stays at or above {level:g} at every temperature "
                                                    f"(min {p.min():.3g})")
    ts = np.unique(t)[::-1]  # hottest first
    mean = np.array([p[t == x].mean() for x in ts])
    j = int(np.argmax(mean >= level)) if (mean >= level).any() else len(ts) - 1
    t0 = ts[j] if j == 0 else ts[j - 1] + (level - mean[j - 1]) * (ts[j] - ts[j - 1]) / (mean[j] - mean[j - 1])
    span = float(ts[0] - ts[-1])
    shift = math.log((1 - level) / level)  # p(Tc) = level

    def residual(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(np.clip((t - x[0]) / x[1] + shift, -50, 50))) - p

    fit = least_squares(residual, [float(np.clip(t0, ts[-1], ts[0])), 0.05 * span],
                        bounds=([ts[-1], 1e-4 * span], [ts[0], span]))
    return Crossing(float(fit.x[0]), float(fit.x[1]))
