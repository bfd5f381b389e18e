"""What the MDAnalysis faces of mda_glassml share: frames from an AtomGroup and parallel runs."""

from __future__ import annotations

from typing import Any

from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.analysis.results import ResultsGroup

from ..frames import AtomGroupFrames

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

    @classmethod
    def get_supported_backends(cls) -> tuple[str, ...]:
        return ("serial", "multiprocessing", "dask")

    def __init__(self, atomgroup: Any, a_type: Any = "A", b_type: Any = "B", **kwargs: Any):
        super().__init__(atomgroup.universe.trajectory, **kwargs)
        self._frames = AtomGroupFrames(atomgroup, a_type, b_type)

    @property
    def atomgroup(self):
        return self._frames.atomgroup

    def _conclude(self):
        self.results.frames = self.frames
        self.results.times = self.times

    def _get_aggregator(self) -> ResultsGroup:
        lookup = {key: ResultsGroup.ndarray_hstack for key in self._per_frame}
        lookup.update({key: ResultsGroup.ndarray_vstack for key in self._per_frame_arrays})
        return ResultsGroup(lookup=lookup)
