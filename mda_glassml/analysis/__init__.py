"""MDAnalysis analyses: per-frame results over any trajectory MDAnalysis reads.

.. autosummary::

   BNeighborMetrics
   PartialRDF
"""

from .bneighbor import BNeighborMetrics
from .rdf import PartialRDF

__all__ = ["BNeighborMetrics", "PartialRDF"]
