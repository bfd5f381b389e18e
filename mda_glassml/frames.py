"""One configuration of a 2D binary mixture, validated once.

A :class:`Frame` is what every computation in mda_glassml takes: particle
positions in a periodic 2D box and, for each particle, whether it is of the
large type A or the small type B. All checking of user input (shapes, NaN,
boxes, type names, 3D data) happens here, in the constructors, so the code
behind them can trust what it gets.

Examples
--------
From arrays:

>>> import numpy as np
>>> from mda_glassml.frames import Frame
>>> frame = Frame.from_arrays([[0, 0], [1, 0], [0, 1]], ["A", "B", "A"], box=[4, 4])
>>> frame.n_particles, frame.n_b
(3, 1)

From an MDAnalysis AtomGroup (the current timestep), with LAMMPS-style
numeric type names:

>>> import MDAnalysis as mda
>>> from mda_glassml.data import EXAMPLE_TRAJECTORY
>>> u = mda.Universe(EXAMPLE_TRAJECTORY)
>>> frame = Frame.from_atomgroup(u.atoms)     # types "A"/"B" here; pass a_type="1", b_type="2" for LAMMPS
>>> frame.box.Lx
60.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import freud
import numpy as np

# InputError and GlassMLWarning lived here until 2026-12-08: still importable from this module.
from .errors import GlassMLWarning, InputError, unknown_keywords, warn  # noqa: F401

__all__ = ["Frame", "AtomGroupFrames", "DensityWarning", "type_codes", "check_type_pair", "make_box", "check_k"]


class DensityWarning(GlassMLWarning):
    """A frame is far from what a model was trained on (its density or box size): results may mislead."""


#: Type codes used inside a :class:`Frame`.
A, B = 0, 1

# z coordinates spread less than this (relative to the box side) count as planar.
_PLANAR_TOLERANCE = 1e-5


def _where(frame: int | None) -> str:
    return "" if frame is None else f" in frame {frame}"


def check_type_pair(a_type: Any, b_type: Any) -> tuple[str, str]:
    """``a_type`` and ``b_type`` as the two type names they must be (strings; LAMMPS numbers allowed)."""
    for name, value in (("a_type", a_type), ("b_type", b_type)):
        if value is None or isinstance(value, bool) or not isinstance(value, (str, int, np.integer)):
            raise InputError(f"{name} must be a type name (a string, or a LAMMPS type number), got {value!r}.")
    if str(a_type) == str(b_type):
        raise InputError(f"a_type and b_type are both {str(a_type)!r}; name two different particle types.")
    return str(a_type), str(b_type)


def type_codes(types: Sequence[Any], a_type: Any = "A", b_type: Any = "B") -> np.ndarray:
    """Map per-particle type names to codes (0 for A, 1 for B), with clear errors.

    Names are compared as strings, so LAMMPS' numeric types work when named
    (``a_type=1`` or ``a_type="1"``).

    Raises
    ------
    ValueError
        If a name is missing, the two names are equal, or particles of other
        types are present (the message lists the types that are).
    """
    a_type, b_type = check_type_pair(a_type, b_type)
    names = np.asarray(types).astype(str)
    present = sorted(set(names.tolist()))
    missing = [t for t in (a_type, b_type) if t not in present]
    if len(missing) == 1 and present == [a_type if missing == [b_type] else b_type]:
        # the other type is there, and nothing else: a one-component frame, not a naming mistake
        raise InputError(
            f"every particle is of type {present[0]!r} and none of type {missing[0]!r}: this frame is a one-component "
            f"system, but these analyses and models are for the binary Kob-Andersen mixture (large {a_type!r} and "
            f"small {b_type!r}). If this is a selection, select both types."
            + (" (A LAMMPS dump without a numeric type column reads as all type '1' in MDAnalysis: dump the "
               "'type' column.)" if present == ["1"] else "")
        )
    if missing:
        raise InputError(
            f"particle type(s) {', '.join(map(repr, missing))} not present; the types present are "
            f"{', '.join(map(repr, present))}. Name the large and the small particles with a_type and b_type "
            "(--a-type/--b-type on the command line; LAMMPS data usually has types '1' and '2')."
        )
    others = [t for t in present if t not in (a_type, b_type)]
    if others:
        raise InputError(
            f"particles of type(s) {', '.join(map(repr, others))} are neither a_type={a_type!r} nor "
            f"b_type={b_type!r}; only binary mixtures are supported. Select the two types first (MDAnalysis: "
            f"u.select_atoms('type {a_type} {b_type}'); OVITO: Select type, then Delete selected, before "
            "this modifier)."
        )
    return (names == b_type).astype(np.int8)


def make_box(box: Any, frame: int | None = None) -> freud.Box:
    """A periodic 2D :class:`freud.box.Box` from what users have at hand.

    Accepts a 2D :class:`freud.box.Box`, ``[Lx, Ly]``, ``[Lx, Ly, Lz]`` (Lz is
    ignored: 2D data often carries Lz = 0 or 1), MDAnalysis dimensions
    ``[Lx, Ly, Lz, alpha, beta, gamma]`` (gamma may tilt the box in the plane;
    alpha and beta must be 90) or a HOOMD/GSD box ``[Lx, Ly, Lz, xy, xz, yz]``
    passed as ``{"hoomd": box}``.
    """
    where = _where(frame)
    if box is None:
        raise InputError(f"no simulation box{where}: a periodic 2D box is required (set the trajectory's dimensions).")
    if isinstance(box, freud.box.Box):
        lx, ly, xy = box.Lx, box.Ly, box.xy
    elif isinstance(box, dict):
        if "hoomd" not in box:
            raise InputError(f"a box given as a dict must be {{'hoomd': [Lx, Ly, Lz, xy, xz, yz]}}{where}, got keys "
                             f"{sorted(map(str, box))}; or give [Lx, Ly] or MDAnalysis dimensions.")
        values = _box_numbers(box["hoomd"], where)
        if values.size not in (2, 3, 6):
            raise InputError(f"a HOOMD-blue box is [Lx, Ly, Lz, xy, xz, yz]{where}, got {values.size} numbers.")
        lx, ly, xy = values[0], values[1], values[3] if values.size > 3 else 0.0
    else:
        values = _box_numbers(box, where)
        if values.size in (2, 3):
            lx, ly, xy = values[0], values[1], 0.0
        elif values.size == 6:
            if not np.allclose(values[3:5], 90.0):
                # A tilt out of the plane has no meaning for a 2D box: taking only gamma would give a
                # silently wrong box (MDAnalysis' GSD reader writes tilt factors here; see AtomGroupFrames).
                raise InputError(
                    f"the box{where} has angles alpha={values[3]:.6g}, beta={values[4]:.6g} (both must be 90 for "
                    "a 2D box: only gamma may tilt it in the plane); give [Lx, Ly, Lz, 90, 90, gamma], or "
                    "{'hoomd': [Lx, Ly, Lz, xy, xz, yz]} for a HOOMD-blue box (a GSD file read by MDAnalysis "
                    "through another reader than its GSD one stores tilts here: use Frame.from_gsd)."
                )
            a, b, gamma = values[0], values[1], np.deg2rad(values[5])
            if not np.isfinite(gamma) or not 0 < gamma < np.pi:
                raise InputError(f"box angle gamma={values[5]} is not a valid angle{where}.")
            # MDAnalysis' (a, b, gamma) -> freud's (Lx, Ly, xy) for an in-plane tilt.
            lx, ly = a, b * np.sin(gamma)
            xy = b * np.cos(gamma) / ly if ly > 0 else 0.0
            if abs(xy) < 1e-12:
                xy = 0.0
        else:
            raise InputError(
                f"cannot read a box from {values.size} numbers{where}; give [Lx, Ly] or MDAnalysis "
                "dimensions [Lx, Ly, Lz, alpha, beta, gamma]."
            )
    if not (np.isfinite(lx) and np.isfinite(ly) and lx > 0 and ly > 0):
        raise InputError(
            f"the box{where} has a zero, negative or missing side (Lx={lx}, Ly={ly}); "
            "a periodic 2D box with both sides > 0 is required."
        )
    return freud.Box(Lx=float(lx), Ly=float(ly), xy=float(xy), is2D=True)


def _box_numbers(box: Any, where: str) -> np.ndarray:
    try:
        return np.asarray(box, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"cannot read a box from {box!r:.60}{where}; give [Lx, Ly], MDAnalysis dimensions "
                         "[Lx, Ly, Lz, alpha, beta, gamma] or {'hoomd': [Lx, Ly, Lz, xy, xz, yz]}.") from None


def box_width(box: freud.box.Box) -> float:
    """The shortest distance between opposite sides of a 2D box: a tilt ``xy`` brings the x sides to
    ``Lx / sqrt(1 + xy**2)``. freud's periodic queries need a cutoff below half of it.

    >>> box_width(freud.Box(Lx=10, Ly=12, xy=0.75, is2D=True))
    8.0
    """
    return float(min(box.Lx / np.hypot(1.0, box.xy), box.Ly))


def check_k(k: Any, n_particles: int) -> int:
    """Validate a number of nearest neighbours for ``n_particles`` particles."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InputError(f"k must be a whole number of nearest neighbours, got {k!r}.")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}.")
    if k >= n_particles:
        raise InputError(f"k={k} needs more than k particles, but there are only {n_particles}.")
    return int(k)


@dataclass(frozen=True, eq=False)
class Frame:
    """One 2D configuration: positions, A/B types and a box.

    Build frames with :meth:`from_arrays`, :meth:`from_atomgroup` or
    :meth:`from_gsd`; they validate. The plain constructor trusts its
    arguments (it is what internal code, such as windows, uses).

    Attributes
    ----------
    positions : numpy.ndarray, shape (N, 2), float32
        Positions wrapped into the box, centred on the origin (freud's convention).
    types : numpy.ndarray, shape (N,), int8
        0 for A (``a_type``), 1 for B (``b_type``).
    box : freud.box.Box
        The 2D box. For a window (``periodic=False``) it is the window's square.
    periodic : bool
        False for a window cut out of a larger system: its edges are open.
    index : int or None
        The trajectory frame this came from, for messages.
    type_names : tuple of str
        The user's names of A and B.
    box_center : (float, float)
        The box's centre in the user's coordinates, where windows sit by
        default: (0, 0) for HOOMD/GSD boxes, freud boxes and ``[Lx, Ly]``
        (boxes centred on the origin); the middle of the box for MDAnalysis
        dimensions (MDAnalysis boxes start at the origin); the cell's middle
        for OVITO cells.
    """

    positions: np.ndarray
    types: np.ndarray
    box: freud.box.Box
    periodic: bool = True
    index: int | None = None
    type_names: tuple[str, str] = field(default=("A", "B"))
    box_center: tuple[float, float] = (0.0, 0.0)

    def __reduce__(self):
        # freud boxes do not pickle; rebuild from the box's parameters (dask, multiprocessing).
        return (_rebuild_frame, (self.positions, self.types, self.box.to_dict(), self.periodic, self.index,
                                 self.type_names, self.box_center))

    @property
    def n_particles(self) -> int:
        return len(self.positions)

    @property
    def is_b(self) -> np.ndarray:
        return self.types == B

    @property
    def n_b(self) -> int:
        return int(np.count_nonzero(self.types == B))

    @property
    def n_a(self) -> int:
        return self.n_particles - self.n_b

    @property
    def area(self) -> float:
        return float(self.box.volume)

    @property
    def points3d(self) -> np.ndarray:
        """Positions as (N, 3) with z = 0, the layout freud wants in 2D."""
        points = np.zeros((self.n_particles, 3), dtype=np.float32)
        points[:, :2] = self.positions
        return points

    @classmethod
    def from_arrays(
        cls,
        positions: Any,
        types: Any,
        box: Any,
        a_type: Any = "A",
        b_type: Any = "B",
        frame: int | None = None,
        box_center: Any = None,
    ) -> "Frame":
        """Validate raw arrays and build a frame.

        Parameters
        ----------
        positions : array-like, shape (N, 2) or (N, 3)
            Coordinates in length units. With three columns, all z must be
            equal (planar data); anything else is 3D and refused.
        types : array-like, shape (N,)
            Per-particle type names (strings or numbers).
        box : freud.box.Box or sequence
            See :func:`make_box`.
        a_type, b_type : str or int
            Names of the large (A) and small (B) particles.
        frame : int, optional
            Trajectory frame index, used in error messages.
        box_center : (float, float), optional
            The box's centre in these coordinates (default: from the box's
            convention, see :attr:`box_center`).

        Examples
        --------
        >>> f = Frame.from_arrays([[0.5, 0.5, 0.0], [59.5, 0.5, 0.0]], [1, 2], [60, 60, 0, 90, 90, 90],
        ...                       a_type=1, b_type=2)
        >>> f.types.tolist()
        [0, 1]
        """
        names = np.asarray(types)
        if names.ndim != 1:
            raise InputError(f"types must be one name per particle, got shape {names.shape}{_where(frame)}.")
        codes = type_codes(names, a_type, b_type) if names.size else names.astype(np.int8)
        return cls._from_codes(positions, codes, box, (str(a_type), str(b_type)), frame, box_center)

    @classmethod
    def _from_codes(
        cls, positions: Any, codes: np.ndarray, box: Any, type_names: tuple[str, str], frame: int | None,
        box_center: Any = None,
    ) -> "Frame":
        # Positions and box are checked every frame; type names once (see AtomGroupFrames).
        if frame is not None and (isinstance(frame, bool) or not isinstance(frame, (int, np.integer))):
            raise InputError(f"frame must be the frame's index (a whole number) or None, got {frame!r}.")
        where = _where(frame)
        spec, box = box, make_box(box, frame)
        if box_center is None:
            box_center = _box_center(spec, box)
        try:
            box_center = tuple(float(c) for c in np.asarray(box_center, dtype=np.float64).reshape(2))
        except (TypeError, ValueError):
            raise InputError(f"box_center must be two numbers (x, y), got {box_center!r}.") from None
        try:
            pos = np.asarray(positions)
            real = not np.iscomplexobj(pos)
            if real:
                pos = pos.astype(np.float64, copy=False)
        except (TypeError, ValueError) as err:  # ragged lists, strings
            raise InputError(f"positions must be an (N, 2) or (N, 3) array of numbers{where}; numpy says: {err}") \
                from None
        if not real:
            raise InputError(f"positions must be real numbers{where}, got complex ones.")
        if pos.ndim != 2 or pos.shape[1] not in (2, 3):
            raise InputError(f"positions must have shape (N, 2) or (N, 3), got {pos.shape}{where}.")
        n = pos.shape[0]
        if n == 0:
            raise InputError(f"no particles{where}: the selection or frame is empty.")
        bad = ~np.isfinite(pos).all(axis=1)
        if bad.any():
            first = np.flatnonzero(bad)[:5].tolist()
            raise InputError(
                f"{bad.sum()} particle(s) have NaN or infinite coordinates{where} (first indices {first}); "
                "the trajectory is corrupt or the simulation blew up."
            )
        if pos.shape[1] == 3:
            z = pos[:, 2]
            if np.ptp(z) > _PLANAR_TOLERANCE * max(box.Lx, box.Ly):
                raise InputError(
                    f"the configuration{where} is 3D (z spans {np.ptp(z):.4g}); mda_glassml supports "
                    "only 2D systems so far (all particles in one plane)."
                )
            pos = pos[:, :2]
        if codes.shape != (n,):
            raise InputError(f"got {codes.size} types for {n} particles{where}.")
        # Into the box in float64 first: unwrapped coordinates (LAMMPS xu yu) far out would lose digits in
        # float32 (0.03 at 10^4 boxes); freud's wrap then settles float32 rounding (a few ulps).
        y_images = np.floor(pos[:, 1] / box.Ly + 0.5)
        x = pos[:, 0] - y_images * box.xy * box.Ly
        y = pos[:, 1] - y_images * box.Ly
        x -= np.floor((x - box.xy * y) / box.Lx + 0.5) * box.Lx
        points = np.zeros((n, 3), dtype=np.float32)
        points[:, 0], points[:, 1] = x, y
        wrapped = box.wrap(points)[:, :2]
        return cls(
            positions=np.ascontiguousarray(wrapped, dtype=np.float32),
            types=codes,
            box=box,
            periodic=True,
            index=frame,
            type_names=type_names,
            box_center=(float(box_center[0]), float(box_center[1])),
        )

    @classmethod
    def from_atomgroup(cls, atomgroup: Any, a_type: Any = "A", b_type: Any = "B") -> "Frame":
        """The current timestep of an MDAnalysis AtomGroup (or of a Universe: all its atoms) as a frame."""
        return AtomGroupFrames(atomgroup, a_type, b_type)()

    @classmethod
    def from_gsd(cls, snapshot: Any, a_type: Any = "A", b_type: Any = "B", frame: int | None = None) -> "Frame":
        """A :class:`gsd.hoomd.Frame` (HOOMD-blue's format) as a frame.

        >>> import gsd.hoomd
        >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
        >>> with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        ...     frame = Frame.from_gsd(traj[-1], frame=len(traj) - 1)
        >>> frame.n_particles
        4320
        """
        particles = getattr(snapshot, "particles", None)
        if particles is None:
            raise InputError(
                f"from_gsd takes one frame of a GSD trajectory (a gsd.hoomd.Frame), got {type(snapshot).__name__}: "
                "with gsd.hoomd.open(path) as traj: Frame.from_gsd(traj[i], frame=i)."
            )
        if particles.N == 0 or particles.position is None:
            raise InputError(f"no particles{_where(frame)} in the GSD frame.")
        typeid = np.asarray(particles.typeid)
        if typeid.size and (typeid.min() < 0 or typeid.max() >= len(particles.types)):
            raise InputError(f"the GSD frame{_where(frame)} has type ids up to {typeid.max()} but only "
                             f"{len(particles.types)} type names; the file is corrupt.")
        names = np.asarray(particles.types)[typeid]
        # 3D frames are refused by from_arrays (z not constant), whatever the box says.
        box = {"hoomd": snapshot.configuration.box}
        return cls.from_arrays(particles.position, names, box, a_type, b_type, frame)

    @classmethod
    def from_ovito(cls, data: Any, a_type: Any = "A", b_type: Any = "B", frame: int | None = None) -> "Frame":
        """An OVITO :class:`~ovito.data.DataCollection` (a pipeline's output) as a frame.

        Type names are the particle types' names; a type without a name (as
        LAMMPS dumps have) is named by its numeric id, so ``a_type="1"``,
        ``b_type="2"`` work. The cell must be periodic in x and y, with its
        first vector along x and both in-plane vectors in the xy plane (any
        origin: positions are wrapped). A cell that is not flagged 2D is
        accepted when every particle has the same z (a LAMMPS ``dimension 2``
        dump); a non-planar configuration is refused as 3D.

        With the ``ovito`` Python module (``pip install ovito``)::

            from ovito.io import import_file
            from mda_glassml.data import EXAMPLE_TRAJECTORY

            data = import_file(EXAMPLE_TRAJECTORY).compute(20)
            frame = Frame.from_ovito(data)          # 4320 particles, box 60 x 60
        """
        if frame is None:
            frame = data.attributes.get("SourceFrame")
        where = _where(frame)
        particles = data.particles
        if particles is None or particles.count == 0:
            raise InputError(f"no particles{where} in the OVITO data collection.")
        if particles.particle_types is None:
            raise InputError(f"the particles{where} have no 'Particle Type' property; load a file with types.")
        cell = data.cell
        if cell is None:
            raise InputError(f"no simulation cell{where}: a periodic 2D box is required.")
        matrix = np.asarray(cell[...], dtype=np.float64)
        va, vb = matrix[:, 0], matrix[:, 1]
        if not (cell.pbc[0] and cell.pbc[1]):
            raise InputError(
                f"the simulation cell{where} is not periodic in x and y (pbc={tuple(cell.pbc)}); mda_glassml "
                "needs a periodic 2D box (set the periodic boundary conditions in OVITO's file import panel)."
            )
        if va[1] != 0 or va[2] != 0 or vb[2] != 0:
            raise InputError(
                f"the simulation cell{where} is not a 2D cell in the xy plane with its first vector along x "
                f"(cell vectors {va.tolist()}, {vb.tolist()}); mda_glassml supports only 2D systems so far."
            )
        type_ids = np.asarray(particles.particle_types[...])
        named = {t.id: t.name or str(t.id) for t in particles.particle_types.types}
        lookup = np.array([named.get(i, str(i)) for i in range(int(type_ids.max()) + 1)])
        ly = vb[1]
        box = [va[0], ly, 0.0, vb[0] / ly if ly else 0.0, 0.0, 0.0]
        positions = np.asarray(particles.positions[...], dtype=np.float64)
        center = matrix[:2, 3] + 0.5 * (va[:2] + vb[:2])
        return cls.from_arrays(positions, lookup[type_ids], {"hoomd": box}, a_type, b_type, frame, center)


def _box_center(spec: Any, box: freud.box.Box) -> tuple[float, float]:
    """The box's centre in the user's coordinates, from the convention of how the box was given."""
    mdanalysis = not isinstance(spec, (freud.box.Box, dict)) and np.asarray(spec).size == 6
    if mdanalysis:  # MDAnalysis boxes span [0, a) x [0, b) (tilted: the cell from the origin)
        return 0.5 * (box.Lx + box.xy * box.Ly), 0.5 * box.Ly
    return 0.0, 0.0


def _rebuild_frame(positions, types, box, periodic, index, type_names, box_center=(0.0, 0.0)) -> Frame:
    return Frame(positions, types, freud.Box.from_box(box), periodic, index, type_names, box_center)


def as_atomgroup(atoms: Any) -> Any:
    """An MDAnalysis AtomGroup from an AtomGroup or a Universe (its atoms), else an InputError."""
    import MDAnalysis as mda  # noqa: PLC0415

    if isinstance(atoms, mda.Universe):
        atoms = atoms.atoms
    if isinstance(atoms, mda.core.groups.UpdatingAtomGroup):
        # Its .atoms would be frame 0's particles, silently frozen; per-frame particle sets are not supported.
        raise InputError("an updating selection changes its particles from frame to frame; these analyses need "
                         "the same particles in every frame: select without updating=True (for a region of "
                         "every frame, use window=).")
    if not isinstance(atoms, mda.AtomGroup):
        raise InputError(f"expected an MDAnalysis AtomGroup (e.g. u.atoms or u.select_atoms('type A B')) or a "
                         f"Universe, got {type(atoms).__name__}.")
    return atoms


class AtomGroupFrames:
    """Frames from an MDAnalysis AtomGroup, with the type names checked once.

    The analysis classes hold one of these: types are validated when it is
    made, then each call returns the current timestep as a :class:`Frame`.
    Types are the topology's, as everywhere in MDAnalysis (a GSD file's are
    read from its first frame).

    >>> import MDAnalysis as mda
    >>> from mda_glassml.data import EXAMPLE_TRAJECTORY
    >>> u = mda.Universe(EXAMPLE_TRAJECTORY)
    >>> frames = AtomGroupFrames(u.atoms)
    >>> [frames().index for ts in u.trajectory[:2]]
    [0, 1]
    """

    def __init__(self, atomgroup: Any, a_type: Any = "A", b_type: Any = "B"):
        atomgroup = as_atomgroup(atomgroup)
        if len(atomgroup) == 0:
            raise InputError("the AtomGroup is empty: select at least the A and B particles.")
        if not hasattr(atomgroup, "types"):
            raise InputError("the topology has no particle types; load one that has (e.g. a GSD or a LAMMPS data file).")
        try:
            trajectory = atomgroup.universe.trajectory
        except AttributeError:  # MDAnalysis: "No trajectory loaded into Universe"
            raise InputError("the Universe has no coordinates (no trajectory loaded); load one, e.g. "
                             "mda.Universe(topology, trajectory).") from None
        self.atomgroup = atomgroup
        self._gsd = _read_from_gsd(trajectory)
        self.a_type, self.b_type = str(a_type), str(b_type)
        self.codes = type_codes(atomgroup.types, a_type, b_type)

    def check_window_origin(self) -> None:
        """Warn if this trajectory's positions are shifted from its box, so that window centres land elsewhere.

        MDAnalysis 2.11 reads scaled LAMMPS dumps (``xs ys zs``, ``dump atom``) as ``xs L - xlo``: the box's
        lower corner subtracted once too often. Whole-frame results do not care; a window centred in the
        box's coordinates does.
        """
        trajectory = self.atomgroup.universe.trajectory
        if not str(getattr(trajectory, "lammps_coordinate_convention", "")).startswith("scaled"):
            return
        sides = np.asarray(trajectory.ts.dimensions[:2], dtype=np.float64)
        xy = self.atomgroup.universe.atoms.positions[:, :2]
        if (xy < -1e-3 * sides).any() or (xy > (1 + 1e-3) * sides).any():
            warn(f"this LAMMPS dump has scaled coordinates (xs ys) in a box that does not start at 0, which "
                 f"MDAnalysis 2.11 shifts by the box's lower corner (positions span {xy.min(axis=0).round(3)} to "
                 f"{xy.max(axis=0).round(3)}, the box is {sides.round(3)} wide): windows land elsewhere than in "
                 "LAMMPS' coordinates (whole-frame results are right). Dump unscaled x y z instead.")

    def __call__(self) -> Frame:
        ts = self.atomgroup.universe.trajectory.ts
        box = ts.dimensions
        if box is not None and self._gsd:
            box = _gsd_reader_box(box, ts.frame)
        return Frame._from_codes(self.atomgroup.positions, self.codes, box, (self.a_type, self.b_type), ts.frame)


def _read_from_gsd(trajectory: Any) -> bool:
    """Whether MDAnalysis' GSD reader made these dimensions: read directly, chained, or copied into memory."""
    readers = getattr(trajectory, "readers", None)  # a ChainReader
    if readers:
        return all(r.format == "GSD" for r in readers)
    if trajectory.format == "MEMORY":  # transfer_to_memory keeps the source's file name and dimensions
        return str(getattr(trajectory, "filename", "")).lower().endswith(".gsd")
    return trajectory.format == "GSD"


def _gsd_reader_box(dimensions: np.ndarray, frame: int) -> dict:
    """The HOOMD-blue box behind MDAnalysis' GSD dimensions.

    MDAnalysis (2.11) stores a GSD box [Lx, Ly, Lz, xy, xz, yz] as [Lx, Ly, Lz, arccos(xy), arccos(xz),
    arccos(yz)] in degrees, and keeps HOOMD-blue's coordinates, centred on 0. Read as MDAnalysis dimensions
    the box would be wrong when tilted and its centre would be the corner of the box.
    """
    dims = np.asarray(dimensions, dtype=float)
    if not np.isfinite(dims[3:]).all():
        raise InputError(
            f"MDAnalysis lost this GSD file's box tilt in frame {frame} (its GSD reader keeps only tilt "
            "factors between -1 and 1); read the file with Frame.from_gsd (the command line cannot yet: it "
            "reads through MDAnalysis)."
        )
    tilts = np.cos(np.deg2rad(dims[3:]))
    tilts[np.abs(tilts) < 1e-6] = 0.0  # cos(90 degrees) in float32 degrees
    return {"hoomd": np.concatenate([dims[:3], tilts])}
