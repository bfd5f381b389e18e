"""What every simulation engine writes: GSD records, their log keys, the run's summary.

Shared by the LAMMPS engine (:mod:`~mda_glassml.simulation.lammps`) and the
HOOMD-blue engine (:mod:`~mda_glassml.simulation.hoomd_engine`) so that both
write the same files: 2D frames (box ``[L, L, 0, 0, 0, 0]``, ``dimensions = 2``),
types ``A``/``B``, float32 positions wrapped into ``[-L/2, L/2)``, and these
per-frame log entries (namespaced so they never clash with HOOMD's own):

- thermal files: ``mda_glassml/temperature`` (set point), ``mda_glassml/kinetic_temperature``,
  ``mda_glassml/potential_energy`` (per particle, unshifted), ``mda_glassml/record`` (k);
- inherent-structure files: ``mda_glassml/temperature``, ``mda_glassml/record``,
  ``mda_glassml/is_energy`` (per particle, unshifted: the paper's convention) and
  ``mda_glassml/is_energy_shifted``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from ..errors import InputError
from .protocol import CoolingProtocol

__all__ = ["CoolingResult", "RecordWriter", "minimise_file", "pair_shift_energy", "LOG_TEMPERATURE", "LOG_KINETIC_TEMPERATURE",
           "LOG_POTENTIAL_ENERGY", "LOG_RECORD", "LOG_IS_ENERGY", "LOG_IS_ENERGY_SHIFTED"]

# GSD log keys (namespaced so they never clash with HOOMD's own quantities).
LOG_TEMPERATURE = "mda_glassml/temperature"
LOG_KINETIC_TEMPERATURE = "mda_glassml/kinetic_temperature"
LOG_POTENTIAL_ENERGY = "mda_glassml/potential_energy"
LOG_RECORD = "mda_glassml/record"
LOG_IS_ENERGY = "mda_glassml/is_energy"
LOG_IS_ENERGY_SHIFTED = "mda_glassml/is_energy_shifted"


def wrap_positions(xyz: np.ndarray, length: float) -> np.ndarray:
    """Wrap x, y into ``[-L/2, L/2)`` and set z = 0 (LAMMPS only wraps at re-neighbouring)."""
    out = np.array(xyz, dtype=np.float64)
    out[:, :2] -= length * np.floor(out[:, :2] / length + 0.5)
    out[:, 2] = 0.0
    # floor() can leave exactly +L/2 through rounding; map it to -L/2.
    out[:, :2][out[:, :2] >= 0.5 * length] -= length
    return out


def pair_shift_energy(protocol: CoolingProtocol, positions: np.ndarray, typeid: np.ndarray) -> float:
    """Total ``sum_pairs V_ab(r_cut)`` over pairs closer than their cutoff.

    ``E_shifted = E_unshifted - pair_shift_energy(...)``. Uses a periodic
    k-d tree (scipy); a few milliseconds for 4320 particles.
    """
    from scipy.spatial import cKDTree  # noqa: PLC0415 - only needed here

    model = protocol.model
    length = protocol.box_length
    xy = np.mod(np.asarray(positions, dtype=np.float64)[:, :2] + 0.5 * length, length)
    xy[xy >= length] = 0.0  # mod can round up to exactly L, which cKDTree rejects
    tree = cKDTree(xy, boxsize=length)
    pairs = tree.query_pairs(model.max_cutoff(), output_type="ndarray")
    if len(pairs) == 0:
        return 0.0
    d = xy[pairs[:, 0]] - xy[pairs[:, 1]]
    d -= length * np.round(d / length)
    r = np.hypot(d[:, 0], d[:, 1])
    t = np.sort(np.asarray(typeid)[pairs], axis=1)  # (0,0) AA, (0,1) AB, (1,1) BB
    total = 0.0
    a, b = model.types
    for (ta, tb), name_pair in (((0, 0), (a, a)), ((0, 1), (a, b)), ((1, 1), (b, b))):
        _, _, rc = model.pair(*name_pair)
        count = np.count_nonzero((t[:, 0] == ta) & (t[:, 1] == tb) & (r < rc))
        total += count * model.shift_constant(*name_pair)
    return float(total)


def gsd_frame(protocol: CoolingProtocol, typeid: np.ndarray, xyz: np.ndarray, step: int, log: dict[str, Any]):
    import gsd.hoomd  # noqa: PLC0415

    frame = gsd.hoomd.Frame()
    frame.configuration.step = int(step)
    frame.configuration.dimensions = 2
    length = protocol.box_length
    frame.configuration.box = [length, length, 0.0, 0.0, 0.0, 0.0]
    frame.particles.N = protocol.n_particles
    frame.particles.types = list(protocol.model.types)
    frame.particles.typeid = np.asarray(typeid, dtype=np.uint32)
    frame.particles.position = np.asarray(xyz, dtype=np.float32)
    frame.log = {key: np.asarray(value).reshape(1) for key, value in log.items()}
    return frame


def minimise_file(protocol: CoolingProtocol, in_path: Any, out_path: Any, open_minimiser: Callable,
                  progress: bool = True) -> np.ndarray:
    """FIRE-minimise every frame of a GSD file (from either engine); returns IS energies per particle.

    ``open_minimiser(positions, typeid)`` is an engine's context manager whose
    value maps positions ``(N, 3)`` to ``(positions, total unshifted energy,
    iterations)``. Writes ``out_path`` (temporary name, then rename) with the
    inherent structures, keeping each frame's step, ``mda_glassml/temperature``
    and ``mda_glassml/record`` and adding ``mda_glassml/is_energy`` (unshifted)
    and ``mda_glassml/is_energy_shifted``.
    """
    import gsd.hoomd  # noqa: PLC0415
    from tqdm.auto import tqdm  # noqa: PLC0415

    in_path, out_path = Path(in_path), Path(out_path)
    if in_path.resolve() == out_path.resolve():
        raise InputError("in_path and out_path must differ")
    n, length = protocol.n_particles, protocol.box_length
    energies = []
    tmp = temp_path(out_path)
    try:
        with gsd.hoomd.open(in_path, "r") as src, gsd.hoomd.open(tmp, "w") as dst:
            first = src[0]
            if first.particles.N != n:
                raise InputError(f"{in_path} has {first.particles.N} particles; the protocol has {n}")
            typeid = np.asarray(first.particles.typeid, dtype=np.int32)
            with open_minimiser(np.asarray(first.particles.position, dtype=np.float64), typeid) as minimise:
                for frame in tqdm(src, disable=not progress, desc="inherent structures", unit="frame"):
                    xyz, e_total, _ = minimise(np.asarray(frame.particles.position, dtype=np.float64))
                    xyz = wrap_positions(xyz, length)
                    e_is = e_total / n
                    log = {key: frame.log[key][0] for key in (LOG_TEMPERATURE, LOG_RECORD) if key in frame.log}
                    log[LOG_IS_ENERGY] = e_is
                    log[LOG_IS_ENERGY_SHIFTED] = e_is - pair_shift_energy(protocol, xyz, typeid) / n
                    dst.append(gsd_frame(protocol, typeid, xyz, int(frame.configuration.step), log))
                    energies.append(e_is)
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return np.asarray(energies)


def temp_path(final: Path) -> Path:
    # Same directory as the final file so the closing rename is atomic; a
    # hidden name unique to this process (not mkstemp, which would leave the
    # final file readable by its owner only).
    return final.with_name(f".{final.name}.{os.getpid()}.part")


def output_paths(out_path: Any, is_out_path: Any) -> tuple[Path, Path | None]:
    """An engine's two output files as paths, checked to differ, their folders created."""
    out = Path(out_path)
    is_path = Path(is_out_path) if is_out_path is not None else None
    if is_path is not None and is_path.resolve() == out.resolve():
        raise InputError("out_path and is_out_path must differ")
    for p in (out, is_path):
        if p is not None:
            p.parent.mkdir(parents=True, exist_ok=True)
    return out, is_path


def normalise_records(protocol: CoolingProtocol, records: Iterable[int] | None) -> list[int]:
    if records is None:
        return list(range(protocol.n_records + 1))
    ks = sorted({int(k) for k in records})
    if not ks:
        raise InputError("records is empty: ask for at least one record index")
    bad = [k for k in ks if not 0 <= k <= protocol.n_records]
    if bad:
        raise InputError(f"record indices must lie in [0, {protocol.n_records}], got {bad}")
    return ks


@dataclass(frozen=True)
class CoolingResult:
    """What :func:`run_cooling` measured, one entry per record (energies per particle)."""

    protocol: CoolingProtocol
    out_path: Path
    is_out_path: Path | None
    records: np.ndarray
    steps: np.ndarray
    temperatures: np.ndarray
    kinetic_temperatures: np.ndarray
    potential_energy: np.ndarray
    is_energy: np.ndarray | None
    is_energy_shifted: np.ndarray | None
    fire_iterations: np.ndarray | None
    wall_time_s: float

    def table(self) -> str:
        """A plain-text table of the per-record numbers."""
        lines = ["   k     step   T_set  T_kin     pe/N    IS/N(unshifted)  IS/N(shifted)  FIRE iters"]
        for i, k in enumerate(self.records):
            is_u = f"{self.is_energy[i]:16.5f}" if self.is_energy is not None else f"{'-':>16}"
            is_s = f"{self.is_energy_shifted[i]:14.5f}" if self.is_energy_shifted is not None else f"{'-':>14}"
            iters = f"{self.fire_iterations[i]:11d}" if self.fire_iterations is not None else f"{'-':>11}"
            lines.append(
                f"{k:4d} {self.steps[i]:8d} {self.temperatures[i]:7.4f} {self.kinetic_temperatures[i]:6.3f} "
                f"{self.potential_energy[i]:8.4f} {is_u} {is_s} {iters}"
            )
        return "\n".join(lines)


class RecordWriter:
    """What every engine does at each record: GSD frames under temporary names, and the numbers.

    Use as a context manager around the run; call :meth:`thermal` (and
    :meth:`inherent` when inherent structures are written) at each record,
    :meth:`commit` when the run succeeded (the files get their final names),
    then :meth:`result`. A run that fails leaves no file under a final name.
    """

    def __init__(self, protocol: CoolingProtocol, typeid: np.ndarray, out_path: Path, is_path: Path | None):
        self.protocol, self.typeid = protocol, np.asarray(typeid)
        self.out_path, self.is_path = out_path, is_path
        self._finals = [out_path] + ([is_path] if is_path is not None else [])
        self._tmps = [temp_path(p) for p in self._finals]
        self._handles: list[Any] = []
        self.values: dict[str, list] = {name: [] for name in ("step", "T", "Tkin", "pe", "is", "is_s", "iters")}

    def __enter__(self) -> "RecordWriter":
        import gsd.hoomd  # noqa: PLC0415

        self._handles = [gsd.hoomd.open(p, "w") for p in self._tmps]
        return self

    def thermal(self, k: int, step: int, xyz: np.ndarray, pe_total: float, tkin: float) -> np.ndarray:
        """Record ``k``'s thermal configuration; returns its wrapped positions."""
        n, temperature = self.protocol.n_particles, self.protocol.record_temperatures()[k]
        xyz = wrap_positions(xyz, self.protocol.box_length)
        pe = pe_total / n
        self._handles[0].append(gsd_frame(self.protocol, self.typeid, xyz, step,
                                          {LOG_TEMPERATURE: temperature, LOG_KINETIC_TEMPERATURE: tkin,
                                           LOG_POTENTIAL_ENERGY: pe, LOG_RECORD: np.int64(k)}))
        for key, value in (("step", step), ("T", temperature), ("Tkin", tkin), ("pe", pe)):
            self.values[key].append(value)
        return xyz

    def inherent(self, k: int, step: int, xyz: np.ndarray, e_total: float, iterations: int) -> float:
        """Record ``k``'s inherent structure (unshifted total energy); returns its energy per particle."""
        n, temperature = self.protocol.n_particles, self.protocol.record_temperatures()[k]
        xyz = wrap_positions(xyz, self.protocol.box_length)
        e_is = e_total / n
        e_is_shifted = e_is - pair_shift_energy(self.protocol, xyz, self.typeid) / n
        self._handles[1].append(gsd_frame(self.protocol, self.typeid, xyz, step,
                                          {LOG_TEMPERATURE: temperature, LOG_RECORD: np.int64(k),
                                           LOG_IS_ENERGY: e_is, LOG_IS_ENERGY_SHIFTED: e_is_shifted}))
        for key, value in (("is", e_is), ("is_s", e_is_shifted), ("iters", iterations)):
            self.values[key].append(value)
        return e_is

    def commit(self) -> None:
        """Close the files and give them their final names."""
        self._close()
        for tmp, final in zip(self._tmps, self._finals):
            os.replace(tmp, final)
        self._tmps = []

    def _close(self) -> None:
        for handle in self._handles:
            handle.close()
        self._handles = []

    def __exit__(self, *exc: Any) -> None:
        self._close()
        for tmp in self._tmps:  # only left when the run failed
            tmp.unlink(missing_ok=True)

    def result(self, records: Iterable[int], wall_time_s: float) -> CoolingResult:
        v, have_is = self.values, self.is_path is not None
        return CoolingResult(
            protocol=self.protocol, out_path=self.out_path, is_out_path=self.is_path,
            records=np.asarray(list(records), dtype=np.int64),
            steps=np.asarray(v["step"], dtype=np.int64),
            temperatures=np.asarray(v["T"], dtype=np.float64),
            kinetic_temperatures=np.asarray(v["Tkin"], dtype=np.float64),
            potential_energy=np.asarray(v["pe"], dtype=np.float64),
            is_energy=np.asarray(v["is"], dtype=np.float64) if have_is else None,
            is_energy_shifted=np.asarray(v["is_s"], dtype=np.float64) if have_is else None,
            fire_iterations=np.asarray(v["iters"], dtype=np.int64) if have_is else None,
            wall_time_s=wall_time_s,
        )
