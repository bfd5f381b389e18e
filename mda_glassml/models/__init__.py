"""Models: featurisation of frames into graphs, the D-MPNN and model bundles.

Layers never reach back: ``featurize`` knows frames and graphs, ``dmpnn``
knows tensors, ``bundle`` saves and loads both.
"""
