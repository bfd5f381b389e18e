"""Per-frame classification and attention metrics (MDAnalysis faces of :mod:`mda_glassml.classify`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from MDAnalysis.analysis.results import ResultsGroup

from ..attention import PAPER_CUT, TABLE_METRICS, attention_metrics_table, check_cut
from ..classify import Classifier
from ..errors import InputError
from ..graphs import check_window_request
from ..models.tiled import DEFAULT_TILE_NODES
from .base import FrameAnalysis
from .bneighbor import _COUNTS

__all__ = ["GlassClassifier", "CNNClassifier", "AttentionGraphMetrics"]


class GlassClassifier(FrameAnalysis):
    """P(glass) of every frame from a trained model (by default the shipped D-MPNN).

    Parameters
    ----------
    atomgroup : MDAnalysis.core.groups.AtomGroup
        The A and B particles of a 2D system with a periodic box.
    model : str or path
        ``"ka2d-dmpnn"`` (default), ``"ka2d-cnn"`` or a model bundle file.
    a_type, b_type : str
        Type names of the large and the small particles.
    window : float, optional
        Side (length units) of sliding windows (D-MPNN only): the frame's
        probability is then the mean over windows on a grid of stride
        ``window / 2``, and ``results.local_probability`` holds each
        particle's mean over the windows that contain it.
    batch_size : int
        Frames per forward pass.
    device : str
        ``"cpu"``, ``"cuda"`` (an :class:`~mda_glassml.errors.InputError` if
        there is no CUDA GPU) or ``"auto"``.
    tile_nodes : int
        Frames of more particles are classified in exact spatial tiles of
        about this many (bounded memory; see :mod:`mda_glassml.classify`).
    inherent : {"lammps", "hoomd"}, optional
        Classify each frame's inherent structure (FIRE-minimised with the
        Kob–Andersen potential by this engine; 15–60 s per 4320-particle
        frame): structure alone, without thermal vibration.
    compile : bool
        Run the model through ``torch.compile`` (same results; 1.1-1.3
        times faster on frames of 10⁵-10⁶ particles; the first frame of each
        worker compiles it; see :class:`~mda_glassml.classify.Classifier`).
    view : {"auto", "thermal", "inherent"}
        Which per-view calibration to apply (models whose card has one per
        view, as the shipped ones): ``"auto"`` (default) tells thermal frames
        from inherent structures by their forces (2 ms per frame; see
        :class:`~mda_glassml.classify.Classifier`).

    A trajectory that logs its temperature (GSD ``mda_glassml/temperature``
    or HOOMD-blue's kinetic temperature) is checked against the model's
    training temperatures: far outside them, a warning says so once.

    Attributes
    ----------
    results.probability : numpy.ndarray
        P(glass) per analysed frame.
    results.local_probability : numpy.ndarray
        With ``window``: per-particle local P(glass), one row a particle, one
        column a frame.
    results.frames, results.times : numpy.ndarray

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> from mda_glassml.analysis import GlassClassifier
    >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
    >>> u = mda.Universe(EXAMPLE_TRAJECTORY)
    >>> clf = GlassClassifier(u.atoms).run(step=10)     # frames 0, 10, 20: T = 2.0, 1.03, 0.05
    >>> bool(clf.results.probability[-1] > 0.5 > clf.results.probability[1])
    True
    """

    _per_frame = ("probability",)
    _default_model = "ka2d-dmpnn"

    def __init__(self, atomgroup: Any, model: Any = None, a_type: Any = "A", b_type: Any = "B",
                 window: float | None = None, batch_size: int = 8, device: str = "cpu",
                 tile_nodes: int = DEFAULT_TILE_NODES, inherent: str | None = None, compile: bool = False,
                 view: str = "auto", **kwargs: Any):
        super().__init__(atomgroup, a_type, b_type, **kwargs)
        self.classifier = Classifier(self._default_model if model is None else model, device=device,
                                     batch_size=batch_size, tile_nodes=tile_nodes, inherent=inherent, compile=compile,
                                     view=view)
        from ..trajectory import logged_temperature  # noqa: PLC0415

        self._temperature = logged_temperature(self.atomgroup.universe)
        self._check_kind()
        self.window = window
        first = self._frames()
        if window is not None:
            if self.classifier.kind != "dmpnn":
                raise InputError("window= needs a graph model (a D-MPNN); a CNN classifies whole frames.")
            self._per_frame_arrays = ("local_probability",)
            from ..graphs import window as cut_window  # noqa: PLC0415

            # A bad window fails now, not deep inside run(): its side, and enough particles for the graph.
            self.classifier.bundle.featurizer.check_size(cut_window(first, window))
        # A model that cannot classify inputs of this size fails now, too.
        self.classifier.check_side(float(window) if window is not None else float(np.sqrt(first.area)),
                                   "windows" if window is not None else "whole frames")

    def _check_kind(self) -> None:
        pass

    def _prepare(self):
        self.results.probability = np.zeros(self.n_frames)
        if self.window is not None:
            self.results.local_probability = np.zeros((self.n_frames, len(self.atomgroup)))
        self._buffer: list[tuple[int, Any]] = []

    def _single_frame(self):
        frame = self._frames()
        if self._temperature is not None:
            self.classifier.check_temperature(float(self._temperature[self._ts.frame]), f"frame {self._ts.frame}")
        if self.window is not None:
            m = self.classifier.window_map(frame, self.window)
            self.results.probability[self._frame_index] = m.probability
            self.results.local_probability[self._frame_index] = m.local_probability
            return
        self._buffer.append((self._frame_index, frame))
        if len(self._buffer) >= self.classifier.batch_size:
            self._flush()

    def _flush(self):
        if getattr(self, "_buffer", None):
            idx = [i for i, _ in self._buffer]
            self.results.probability[idx] = self.classifier.probabilities([f for _, f in self._buffer])
            self._buffer = []

    def _setup_computation_groups(self, n_parts: int, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        # Split the frames between workers only at multiples of the batch size, so that every
        # backend forms the same batches and gives the same bits (a batch's matrix products
        # round differently from a smaller batch's).
        # Each cut is the multiple of the batch size nearest to an equal share of frames (100 frames in
        # batches of 8 between 2 workers: 48 + 52, where whole batches split evenly give 56 + 44).
        (frames,) = super()._setup_computation_groups(1, *args, **kwargs)
        size = self.classifier.batch_size if self.window is None else 1
        n = len(frames)
        cuts = {min(n, round(i * n / n_parts / size) * size) for i in range(1, max(1, n_parts))}
        bounds = sorted(cuts | {0, n})
        return [frames[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a] or [frames]

    def _compute(self, *args: Any, **kwargs: Any):
        _single_threaded_in_worker()
        return super()._compute(*args, **kwargs)

    def _finish_part(self) -> None:
        # Frames are classified in batches; the last, partial batch is classified here, in
        # each worker, before the results leave it.
        self._flush()

    def _conclude(self):
        super()._conclude()
        if self.window is not None:
            self.results.local_probability = np.asarray(self.results.local_probability).T


def _single_threaded_in_worker() -> None:
    import multiprocessing  # noqa: PLC0415

    import freud  # noqa: PLC0415
    import torch  # noqa: PLC0415

    # A forked worker must not enter the OpenMP thread pool it inherited from its parent (it
    # would wait forever for threads that were not copied); one thread a worker is also what
    # the parallel backends size their pools for (freud's TBB pool too: two workers with a pool
    # of every core each oversubscribe the machine).
    if multiprocessing.parent_process() is not None:
        torch.set_num_threads(1)
        freud.parallel.set_num_threads(1)


class CNNClassifier(GlassClassifier):
    """P(glass) of every frame from a CNN on rendered images (by default the shipped compact CNN).

    Parameters as :class:`GlassClassifier` (no ``window``: the CNN sees whole
    configurations, drawn by the renderer stored with the model).

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> from mda_glassml.analysis import CNNClassifier
    >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
    >>> u = mda.Universe(EXAMPLE_TRAJECTORY)
    >>> p = CNNClassifier(u.atoms).run(step=10).results.probability
    >>> p.shape
    (3,)
    """

    _default_model = "ka2d-cnn"

    def _check_kind(self) -> None:
        if self.classifier.kind != "cnn":
            raise InputError(f"CNNClassifier needs a CNN model; this one is a {self.classifier.kind} "
                             "(use GlassClassifier).")


class AttentionGraphMetrics(FrameAnalysis):
    """Per frame, the metrics of the D-MPNN's high-attention graph (see :mod:`mda_glassml.attention`).

    Parameters
    ----------
    atomgroup, a_type, b_type
        As for :class:`GlassClassifier`.
    model : str or path
        A D-MPNN with attention (default ``"ka2d-dmpnn-paper"``, the paper's task and
        neighbour count k = 2, on which the paper read its attention).
    cut : "paper", "trough" or float
        Which rescaled weights count as high (:func:`mda_glassml.attention.attention_graph`).
        ``"trough"`` is one cut from the weights of every analysed frame pooled
        (:func:`~mda_glassml.attention.trough_cut`; one frame's weights rarely
        have a trough), applied to each: the counts are filled after the last
        frame, and the weights are kept (``results.edge_index``,
        ``results.edge_weights``, ``results.types``) whatever ``store_weights``.
    window : float, optional
        Analyse a window of this side centred on ``window_center`` instead of the whole frame.
        Give the side the model learnt its attention on (12 for the shipped models): each
        graph's weights are rescaled by their range, which on a far larger graph is set by
        its few most extreme edges, and the attention graph degenerates (a warning says so).
    window_center : (float, float), optional
        Default: the box centre (as for :class:`~mda_glassml.analysis.BNeighborMetrics`).
    device : str
        As for :class:`GlassClassifier`.
    store_weights : bool
        Keep every frame's directed edges and attention weights in
        ``results.edge_index`` and ``results.edge_weights`` (lists, one entry a frame).

    Attributes
    ----------
    results.n_components, results.n_bb_edges, results.n_isolated_a, results.n_isolated_b : numpy.ndarray
    results.components_per_particle, results.bb_edges_per_particle, results.isolated_a_per_particle
    results.isolated_b_per_particle : numpy.ndarray
    results.fraction_high : numpy.ndarray
        The fraction of directed edges above the cut. Near 1 in liquids as in
        glasses (``cut="paper"`` on the shipped ``ka2d-dmpnn``), the attention
        graph is just the k-NN graph; ``compare_glass_liquid`` warns then.
    results.cut : float
        The numeric cut applied.
    results.edge_index, results.edge_weights, results.types : list of numpy.ndarray
        With ``store_weights`` or ``cut="trough"``: per frame, the directed edges,
        their weights and the particles' type codes.
    """

    _counts = _COUNTS  # the same counts as BNeighborMetrics, of the attention graph
    _per_frame = TABLE_METRICS
    _kept = ("edge_index", "edge_weights", "types")

    def __init__(self, atomgroup: Any, model: Any = "ka2d-dmpnn-paper", a_type: Any = "A", b_type: Any = "B",
                 cut: Any = "paper", window: float | None = None, window_center: Any = None,
                 store_weights: bool = False, device: str = "cpu", **kwargs: Any):
        super().__init__(atomgroup, a_type, b_type, **kwargs)
        self.classifier = Classifier(model, device=device)
        self.classifier.check_attention()  # the message the OVITO modifier gives too
        check_cut(cut)
        check_window_request(window, window_center)
        if window is not None:  # a bad window or centre fails now, not in run() as if a frame were at fault
            from ..graphs import window as cut_window  # noqa: PLC0415

            self.classifier.bundle.featurizer.check_size(cut_window(self._frames(), window, window_center))
            self._frames.check_window_origin()
        self.cut, self.window, self.window_center, self.store_weights = cut, window, window_center, store_weights

    @property
    def _keeps_weights(self) -> bool:
        return self.store_weights or self.cut == "trough"

    def _prepare(self):
        super()._prepare()
        if self._keeps_weights:
            for key in self._kept:
                self.results[key] = [None] * self.n_frames

    def _single_frame(self):
        from ..graphs import window as cut_window  # noqa: PLC0415

        frame = self._frames()
        if self.window is not None:
            frame = cut_window(frame, self.window, self.window_center)
        edges, weights = self.classifier.attention(frame)
        if self.cut != "trough":  # a trough cut needs every frame's weights: counted in _conclude
            row = attention_metrics_table([(edges, weights, frame.types)], self.cut)
            for key in self._per_frame:
                self.results[key][self._frame_index] = row[key][0]
        if self._keeps_weights:
            for key, value in zip(self._kept, (edges, weights, frame.types)):
                self.results[key][self._frame_index] = value

    def _compute(self, *args: Any, **kwargs: Any):
        _single_threaded_in_worker()
        return super()._compute(*args, **kwargs)

    def _aggregations(self) -> dict[str, Any]:
        lookup = super()._aggregations()
        if self._keeps_weights:  # one array a frame, kept in frame order
            lookup.update({key: ResultsGroup.flatten_sequence for key in self._kept})
        return lookup

    def _conclude(self):
        super()._conclude()
        if self.cut == "trough":
            try:
                table = attention_metrics_table(list(zip(*(self.results[key] for key in self._kept))), "trough")
            except InputError as err:
                for key in self._per_frame:  # zeros from _prepare would pass for counts
                    del self.results[key]
                raise InputError(f"{err} The weights of every frame are kept in results.edge_weights (edges and "
                                 "types beside them): pick a cut from them and run again with cut=<number>.") from None
            for key in self._per_frame:
                self.results[key] = table[key]
            self.results.cut = float(table["cut"][0])
        else:
            self.results.cut = PAPER_CUT if self.cut == "paper" else float(self.cut)
