"""Opening user trajectories with MDAnalysis, and what they log beside coordinates.

This is the edge where file names become Universes: missing files and
unreadable formats get a message that says what to do, not a traceback
from a reader.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["open_universe", "logged_temperature", "TEMPERATURE_KEYS"]

#: GSD log entries read as the temperature of a frame, first found wins:
#: this package's set point, then HOOMD-blue's measured kinetic temperature.
TEMPERATURE_KEYS = (
    "log/mda_glassml/temperature",
    "log/md/compute/ThermodynamicQuantities/kinetic_temperature",
)


def open_universe(trajectory: str, topology: str | None = None, format: str | None = None) -> Any:
    """An MDAnalysis Universe for ``trajectory`` (and ``topology``, if the format needs one).

    >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
    >>> u = open_universe(EXAMPLE_TRAJECTORY)
    >>> u.atoms.n_atoms
    4320
    """
    import MDAnalysis as mda

    for path in (trajectory, topology):
        if path is not None and not os.path.exists(path):
            raise FileNotFoundError(f"no such file: {path}")
    args = (topology, trajectory) if topology else (trajectory,)
    kwargs = {"format": format} if format else {}
    if str(trajectory).lower().endswith((".lammpstrj", ".dump")):  # MDAnalysis knows only .lammpsdump
        kwargs.setdefault("format", "LAMMPSDUMP")
        if not topology:
            kwargs["topology_format"] = "LAMMPSDUMP"
    # LAMMPS data files: MDAnalysis knows only *.data, and reads atom_style full unless told
    data = _is_lammps_data(topology or trajectory)
    if data:
        kwargs.setdefault("topology_format", "DATA")
        if not topology:
            kwargs.setdefault("format", "DATA")
    try:
        try:
            return mda.Universe(*args, **kwargs)
        except ValueError as err:
            if not (data and "atom_style" in str(err)):
                raise
            # atom_style atomic, the usual one of a Kob-Andersen run
            return mda.Universe(*args, **kwargs, atom_style="id type x y z")
    except Exception as err:  # MDAnalysis raises many kinds; all mean "cannot read this"
        hint = ""
        if "No coordinate information detected" in str(err):
            hint = (" MDAnalysis reads LAMMPS dumps with three coordinate columns only: dump x y z (or xs ys zs, "
                    "xu yu zu) even in 2D (dump custom ... id type x y z).")
        raise InputError(
            f"MDAnalysis could not read {trajectory!r}"
            + (f" with topology {topology!r}" if topology else "")
            + f": {str(err).splitlines()[0] if str(err) else type(err).__name__}.{hint} Check the file, or pass "
            "--topology/--format (any format MDAnalysis reads works: GSD, LAMMPS dump, LAMMPS data, XYZ, DCD "
            "with a topology, ...)."
        ) from err


def _is_lammps_data(path: Any) -> bool:
    """A LAMMPS data file by its name: *.data, *.lmp, or LAMMPS' own data.NAME (not data.gsd: a known format)."""
    from MDAnalysis import _PARSERS  # noqa: PLC0415  (the topology formats MDAnalysis tells by extension)

    name = os.path.basename(str(path)).lower()
    extension = os.path.splitext(name)[1].lstrip(".").upper()
    return extension in ("DATA", "LMP") or (name.startswith("data.") and extension not in _PARSERS)


def logged_temperature(universe: Any) -> np.ndarray | None:
    """Temperature per frame of a GSD trajectory that logs one, else None.

    As in :mod:`gsd.hoomd`, a frame without the entry takes frame 0's value
    (the format's default); frames with neither get NaN. Only GSD files log
    per-frame values in a standard place; for other formats this returns None.
    A chain of files (``mda.Universe(top, [a.gsd, b.gsd])``) gets each file's
    values in turn (NaN for a file that logs none); None if no file logs any.
    """
    trajectory = universe.trajectory
    files = getattr(trajectory, "filenames", None)  # MDAnalysis' ChainReader
    if files is None:
        filename = getattr(trajectory, "filename", None)
        return _gsd_temperature(filename) if filename else None
    parts = [_gsd_temperature(f) for f in files]
    if all(p is None for p in parts):
        return None
    lengths = [r.n_frames for r in trajectory.readers]
    values = np.concatenate([np.full(n, np.nan) if p is None else p for p, n in zip(parts, lengths)])
    return values if len(values) == trajectory.n_frames else None


def _gsd_temperature(filename: Any) -> np.ndarray | None:
    if not str(filename).lower().endswith(".gsd"):
        return None
    import gsd.fl

    with gsd.fl.open(str(filename), mode="r") as f:
        n = f.nframes
        for key in TEMPERATURE_KEYS:
            present = [i for i in range(n) if f.chunk_exists(i, key)]
            if not present:
                continue
            values = np.full(n, np.nan)
            if present[0] == 0:
                values[:] = float(np.asarray(f.read_chunk(0, key)).ravel()[0])
            for i in present:
                values[i] = float(np.asarray(f.read_chunk(i, key)).ravel()[0])
            return values
    return None
