"""The paper's experiments, end to end (``mda-glassml reproduce``).

Built on the core (simulation, training, metrics, attention); nothing in the
core imports this package.
"""
