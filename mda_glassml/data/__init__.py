"""Data that ships with mda_glassml.

``EXAMPLE_TRAJECTORY``
    A real 2D Kob–Andersen cooling run (4320 particles, 65:35, density 1.2,
    box 60 x 60) made by this package's LAMMPS engine at the paper's fast
    rate (2e5 steps from T = 2.0 to 0.05): 21 of its 200 records, k = 1, 10,
    20, ..., 200, i.e. T = 1.99025 (the paper's dataset-1 liquid), 1.9025,
    ..., 0.05, with the set-point temperature logged per frame
    (``mda_glassml/temperature``). GSD, readable by MDAnalysis, gsd and OVITO.
``EXAMPLE_INHERENT_STRUCTURES``
    The same 21 records minimised by FIRE (inherent structures), with their
    energy per particle logged (``mda_glassml/is_energy``, plain unshifted
    Lennard-Jones, the paper's convention).

Regenerate both with ``python -m mda_glassml.simulation.example``.
"""

from importlib.resources import files

__all__ = ["EXAMPLE_TRAJECTORY", "EXAMPLE_INHERENT_STRUCTURES"]

_here = files(__name__)
EXAMPLE_TRAJECTORY = str(_here / "ka2d_cooling.gsd")
EXAMPLE_INHERENT_STRUCTURES = str(_here / "ka2d_cooling_is.gsd")
