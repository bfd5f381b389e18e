"""What the MDAnalysis faces of mda_glassml share: frames from an AtomGroup and parallel runs."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np

from MDAnalysis.analysis.backends import BackendSerial
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.analysis.results import ResultsGroup

from ..errors import GlassMLWarning, InputError, unknown_keywords, warn
from ..frames import AtomGroupFrames

__all__ = ["FrameAnalysis"]

#: The results key that carries a worker process's warnings to the parent (removed in ``_conclude``).
_RELAYED = "relayed_warnings"


def _whole(name: str, value: Any) -> int | None:
    """``value`` as a plain int (None stays None), or an InputError naming ``name``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be a whole number or None, got {value!r}.")
    return int(value)


def _keywords(cls: type) -> list[str]:
    """The keyword parameters of ``cls`` and of the classes it builds on, in the order users meet them."""
    import inspect

    names = [name for klass in cls.__mro__ if "__init__" in vars(klass)
             for name, p in inspect.signature(klass.__init__).parameters.items()
             if name not in ("self", "atomgroup", "trajectory") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return list(dict.fromkeys(names))


def _replay(records: list[tuple], classifier: Any) -> None:
    """Give the warnings a worker recorded, in frame order, as the serial run would have given them.

    This package's warnings that carry a key (the classifier's bands of values) go through the analysis'
    classifier, which says each once, as in a serial run; others of this package once per text (less a
    leading "frame N: "); a library's keep their own place, so that the caller's filters still apply.
    """
    said, registry = set(), {}  # registry: each library warning once per place, as one process shows it
    for category, message, key, filename, lineno in records:
        if issubclass(category, GlassMLWarning):
            if key is not None and classifier is not None:
                classifier._warn(key, message, category)
                continue
            text = (category, re.sub(r"^frame \d+: ", "", message))
            if text not in said:
                said.add(text)
                warn(message, category)
        else:
            warnings.warn_explicit(message, category, filename, lineno, registry=registry)


class FrameAnalysis(AnalysisBase):
    """Base of the per-frame analyses: each frame becomes a :class:`~mda_glassml.frames.Frame`.

    Subclasses name their per-frame results in ``_per_frame`` (1-D, one value
    a frame: joined end to end) and ``_per_frame_arrays`` (one array a frame:
    stacked along the first axis). With that, every backend of
    :meth:`~MDAnalysis.analysis.base.AnalysisBase.run` (``"serial"``,
    ``"multiprocessing"``, ``"dask"``) gives the same results, bit for bit:
    workers hold raw per-frame values and ``_conclude`` reduces them once.
    """

    _analysis_algorithm_is_parallelizable = True
    _per_frame: tuple[str, ...] = ()
    _per_frame_arrays: tuple[str, ...] = ()
    #: The per-frame results that are counts (integer arrays; the rest are float).
    _counts: tuple[str, ...] = ()

    @classmethod
    def get_supported_backends(cls) -> tuple[str, ...]:
        return ("serial", "multiprocessing", "dask")

    def __init__(self, atomgroup: Any, a_type: Any = "A", b_type: Any = "B", verbose: bool = False,
                 **unknown: Any):
        if unknown:
            # AnalysisBase takes any keyword: a misspelt one would silently do nothing.
            raise unknown_keywords(type(self).__name__, unknown, _keywords(type(self)))
        frames = AtomGroupFrames(atomgroup, a_type, b_type)  # the input checked first, then MDAnalysis' setup
        super().__init__(frames.atomgroup.universe.trajectory, verbose=verbose)
        self._frames = frames

    @property
    def atomgroup(self):
        return self._frames.atomgroup

    def run(self, start: int | None = None, stop: int | None = None, step: int | None = None,
            frames: Any = None, verbose: bool | None = None, n_workers: int | None = None,
            n_parts: int | None = None, backend: Any = None, **kwargs: Any):
        """Run over the frames, as :meth:`MDAnalysis.analysis.base.AnalysisBase.run`.

        The frame selection and the worker counts are checked first: a zero
        step, a selection with no frames, a frame beyond the trajectory, a
        worker count below 1, or workers with the serial backend (MDAnalysis
        2.11 then splits the frames into parts and keeps the last part's
        results for every part: frames ``[15 20 15 20]`` for ``step=5``) is
        an :class:`~mda_glassml.errors.InputError` that says so, before any
        frame is read.

        >>> import MDAnalysis as mda
        >>> from mda_glassml.analysis import BNeighborMetrics
        >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
        >>> u = mda.Universe(EXAMPLE_TRAJECTORY)
        >>> BNeighborMetrics(u.atoms).run(start=5, stop=2)
        Traceback (most recent call last):
        ...
        mda_glassml.errors.InputError: start=5, stop=2, step=None select no frames of this 21-frame trajectory \
(frames 0-20).
        """
        start, stop, step, n_workers, n_parts = (_whole(name, value) for name, value in (
            ("start", start), ("stop", stop), ("step", step), ("n_workers", n_workers), ("n_parts", n_parts)))
        for name, value in (("n_workers", n_workers), ("n_parts", n_parts)):
            if value is not None and value < 1:
                raise InputError(f"{name} must be at least 1, got {value}.")
        serial = backend is None or backend == "serial" or isinstance(backend, BackendSerial)
        if serial and max(n_workers or 1, n_parts or 1) > 1:
            raise InputError(f"n_workers={n_workers}, n_parts={n_parts} with the serial backend: workers need "
                             "backend='multiprocessing' or 'dask' (MDAnalysis runs the parts one after another "
                             "and keeps only the last one's results).")
        frames = self._checked_selection(start, stop, step, frames)
        self._relay = not serial  # travels to the workers with the analysis: they hand their warnings back
        if serial:
            return super().run(start=start, stop=stop, step=step, frames=frames, verbose=verbose,
                               n_workers=n_workers, n_parts=n_parts, backend=backend, **kwargs)
        from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

        from ..cluster import guard_advice, refusals, refuse_in_a_starting_worker  # noqa: PLC0415

        refuse_in_a_starting_worker()  # dask's workers are spawned: they import the user's script again
        with refusals() as refused:
            try:
                return super().run(start=start, stop=stop, step=step, frames=frames, verbose=verbose,
                                   n_workers=n_workers, n_parts=n_parts, backend=backend, **kwargs)
            except BrokenProcessPool as err:
                if not refused():  # died of something else (memory, a crash): its own error
                    raise
                name = backend if isinstance(backend, str) else type(backend).__name__
                raise InputError(f"the {name} backend's worker processes could not start ({err}): they cannot "
                                 f"import the caller's script; {guard_advice()}.") from err

    def _checked_selection(self, start: int | None, stop: int | None, step: int | None, frames: Any):
        """``frames`` as an array of frame indices (None stays None) once the selection is known good."""
        try:
            n = len(self._trajectory)
        except (TypeError, RuntimeError):  # a streaming reader (e.g. IMD) has no length: MDAnalysis decides
            return frames
        if step == 0:
            raise InputError("step must not be 0 (every frame: step=1 or None; every 10th: step=10; backwards: -1).")
        if frames is None:
            # MDAnalysis' own rule for start/stop/step (check_slice_indices, then arange)
            first, last, stride = self._trajectory.check_slice_indices(start, stop, step)
            picked = np.arange(first, last, stride)
            if picked.size == 0 or picked.min() < 0 or picked.max() >= n:
                raise InputError(f"start={start}, stop={stop}, step={step} select no frames of this {n}-frame "
                                 f"trajectory (frames 0-{n - 1}).")
            return None
        if start is not None or stop is not None or step is not None:
            raise InputError("give frames= or start/stop/step, not both.")
        picked = np.asarray(frames)
        if picked.ndim != 1:
            raise InputError(f"frames must be a list of frame indices or a boolean mask, got shape {picked.shape}.")
        if picked.dtype == bool:
            if picked.shape != (n,):
                raise InputError(f"a boolean frames mask needs one entry per frame ({n}), got {picked.size}.")
            picked = np.flatnonzero(picked)
        elif picked.size and not np.issubdtype(picked.dtype, np.integer):
            raise InputError(f"frames must be frame indices (whole numbers) or a boolean mask, got {picked.dtype}.")
        if picked.size == 0:
            raise InputError("frames selects no frames: give at least one frame index.")
        bad = picked[(picked >= n) | (picked < -n)]
        if bad.size:
            raise InputError(f"frame {int(bad[0])} is not in this {n}-frame trajectory (frames 0-{n - 1}).")
        return picked.astype(np.int64) % n  # plain indices, the same on every MDAnalysis version

    def _compute(self, indexed_frames: np.ndarray, verbose: bool | None = None, **kwargs: Any):
        if not getattr(self, "_relay", False):  # serial: warnings reach the user as they come
            return self._compute_frames(indexed_frames, verbose, **kwargs)
        # A worker of a parallel backend: its warnings would go to its own stderr (forked: nowhere), where no
        # filter or pytest.warns of the caller sees them. They travel with the results (_conclude gives them);
        # if the part fails they are given here, before its error.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GlassMLWarning)  # the once-logic is the classifier's, by key
            try:
                out, error = self._compute_frames(indexed_frames, verbose, **kwargs), None
            except BaseException as err:  # noqa: BLE001 - raised again below, after the warnings
                out, error = None, err
        records = [(w.category, str(w.message), getattr(w.message, "key", None), w.filename, w.lineno)
                   for w in caught]
        if error is not None:  # the error is what the caller gets; its warnings go to this worker's stderr
            _replay(records, None)
            raise error
        self.results[_RELAYED] = records
        return out

    def _compute_frames(self, indexed_frames: np.ndarray, verbose: bool | None, **kwargs: Any):
        # Every backend runs its frames here: the frame that fails is named, wherever it ran.
        try:
            out = super()._compute(indexed_frames, verbose, **kwargs)
            self._finish_part()
            return out
        except InputError as err:
            frame = getattr(getattr(self, "_ts", None), "frame", None)
            if frame is None or f"frame {frame}" in str(err):
                raise
            raise InputError(f"frame {frame}: {err}") from None
        except ValueError as err:
            if "variable topology" not in str(err):
                raise
            raise InputError(
                f"the particle count changes in this trajectory (MDAnalysis: {err}); MDAnalysis reads only "
                "trajectories with a fixed particle count: analyse the parts separately, or read each frame "
                "with Frame.from_gsd and call the functions (b_neighbor_metrics, ...) frame by frame."
            ) from None

    def _finish_part(self) -> None:
        """After a part's last frame, in the process that ran it (batched analyses classify their last batch)."""

    def _prepare(self):
        for key in self._per_frame:
            self.results[key] = np.zeros(self.n_frames, dtype=np.int64 if key in self._counts else np.float64)

    def _conclude(self):
        self.results.frames = self.frames
        self.results.times = self.times
        _replay(self.results.pop(_RELAYED, None) or [], getattr(self, "classifier", None))

    def _aggregations(self) -> dict[str, Any]:
        """How the workers' results join, per key (``ResultsGroup`` lookup)."""
        lookup = {key: ResultsGroup.ndarray_hstack for key in self._per_frame}
        lookup.update({key: ResultsGroup.ndarray_vstack for key in self._per_frame_arrays})
        return lookup

    def _get_aggregator(self) -> ResultsGroup:
        return ResultsGroup(lookup={**self._aggregations(), _RELAYED: ResultsGroup.flatten_sequence})
