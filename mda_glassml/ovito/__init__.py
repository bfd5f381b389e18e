"""OVITO face of mda_glassml: pipeline modifiers for OVITO Pro and the ``ovito`` Python module.

Needs OVITO >= 3.9 (``pip install ovito``, or ``ovitos -m pip install --user /path/to/mda_glassml``, a clone
for OVITO Pro). See :mod:`mda_glassml.ovito.modifiers` and :doc:`/ovito`.
"""

from .modifiers import AttentionModifier, BNeighborModifier, GlassClassifierModifier

__all__ = ["GlassClassifierModifier", "BNeighborModifier", "AttentionModifier"]
