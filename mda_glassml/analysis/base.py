"""What the MDAnalysis faces of mda_glassml share: frames from an AtomGroup and parallel runs."""

from __future__ import annotations

from typing import Any

import numpy as np

from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.analysis.results import ResultsGroup

from ..frames import AtomGroupFrames, InputError

__all__ = ["FrameAnalysis"]


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

    def __init__(self, atomgroup: Any, a_type: Any = "A", b_type: Any = "B", **kwargs: Any):
        super().__init__(atomgroup.universe.trajectory, **kwargs)
        self._frames = AtomGroupFrames(atomgroup, a_type, b_type)

    @property
    def atomgroup(self):
        return self._frames.atomgroup

    def run(self, start: int | None = None, stop: int | None = None, step: int | None = None,
            frames: Any = None, verbose: bool | None = None, n_workers: int | None = None, **kwargs: Any):
        """Run over the frames, as :meth:`MDAnalysis.analysis.base.AnalysisBase.run`.

        The frame selection and ``n_workers`` are checked first: a zero step, a
        selection with no frames, a frame beyond the trajectory or a worker
        count below 1 is an :class:`~mda_glassml.frames.InputError` that says
        so, before any frame is read.

        >>> import MDAnalysis as mda
        >>> from mda_glassml.analysis import BNeighborMetrics
        >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
        >>> u = mda.Universe(EXAMPLE_TRAJECTORY)
        >>> BNeighborMetrics(u.atoms).run(start=5, stop=2)
        Traceback (most recent call last):
        ...
        mda_glassml.frames.InputError: start=5, stop=2, step=None select no frames of this 21-frame trajectory (frames 0-20).
        """
        self._check_selection(start, stop, step, frames, n_workers)
        return super().run(start=start, stop=stop, step=step, frames=frames, verbose=verbose,
                           n_workers=n_workers, **kwargs)

    def _check_selection(self, start: Any, stop: Any, step: Any, frames: Any, n_workers: Any) -> None:
        n = len(self._trajectory)
        for name, value in (("start", start), ("stop", stop), ("step", step), ("n_workers", n_workers)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
                raise InputError(f"{name} must be a whole number or None, got {value!r}.")
        if step == 0:
            raise InputError("step must not be 0 (every frame: step=1 or None; every 10th: step=10; backwards: -1).")
        if n_workers is not None and n_workers < 1:
            raise InputError(f"n_workers must be at least 1, got {n_workers}.")
        if frames is not None:
            picked = np.asarray(frames)
            if picked.dtype == bool:
                if picked.shape != (n,):
                    raise InputError(f"a boolean frames mask needs one entry per frame ({n}), got shape {picked.shape}.")
                picked = np.flatnonzero(picked)
            elif picked.size and not np.issubdtype(picked.dtype, np.integer):
                raise InputError(f"frames must be frame indices (whole numbers) or a boolean mask, got {picked.dtype}.")
            if picked.size == 0:
                raise InputError("frames selects no frames: give at least one frame index.")
            bad = picked[(picked >= n) | (picked < -n)]
            if bad.size:
                raise InputError(f"frame {int(bad[0])} is not in this {n}-frame trajectory (frames 0-{n - 1}).")
        elif len(range(n)[slice(start, stop, step)]) == 0:
            raise InputError(f"start={start}, stop={stop}, step={step} select no frames of this {n}-frame "
                             f"trajectory (frames 0-{n - 1}).")

    def _prepare(self):
        for key in self._per_frame:
            self.results[key] = np.zeros(self.n_frames, dtype=np.int64 if key in self._counts else np.float64)

    def _conclude(self):
        self.results.frames = self.frames
        self.results.times = self.times

    def _get_aggregator(self) -> ResultsGroup:
        lookup = {key: ResultsGroup.ndarray_hstack for key in self._per_frame}
        lookup.update({key: ResultsGroup.ndarray_vstack for key in self._per_frame_arrays})
        return ResultsGroup(lookup=lookup)
