"""MDAnalysis analyses: per-frame results over any trajectory MDAnalysis reads.

.. autosummary::

   BNeighborMetrics
   PartialRDF
   GlassClassifier
   CNNClassifier
   AttentionGraphMetrics
"""

from .bneighbor import BNeighborMetrics
from .classify import AttentionGraphMetrics, CNNClassifier, GlassClassifier
from .rdf import PartialRDF

__all__ = ["BNeighborMetrics", "PartialRDF", "GlassClassifier", "CNNClassifier", "AttentionGraphMetrics"]
