"""mda_glassml: tell 2D glasses from liquids, inside MDAnalysis, freud and OVITO.

The core works on a :class:`~mda_glassml.frames.Frame` (positions, A/B types,
periodic 2D box); the faces adapt user data to it:

- :mod:`mda_glassml.analysis`: MDAnalysis analyses (:class:`~mda_glassml.analysis.BNeighborMetrics`,
  :class:`~mda_glassml.analysis.PartialRDF`).
- :mod:`mda_glassml.metrics`, :mod:`mda_glassml.rdf`: plain functions on a frame.
- ``mda-glassml``: the command line.
"""

from importlib.metadata import PackageNotFoundError, version

from .frames import Frame
from .metrics import b_neighbor_metrics

try:
    __version__ = version("mda-glassml")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["Frame", "b_neighbor_metrics", "__version__"]
