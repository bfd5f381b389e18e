"""Run the paper's protocol with HOOMD-blue (GPU by default), writing the same files as the LAMMPS engine.

HOOMD-blue (>= 7.1; written against the documented API of HOOMD-blue 4 and
later, which these calls share; not executed in this project's CI, where
HOOMD-blue cannot be installed) is distributed on conda-forge, not PyPI::

    conda install -c conda-forge "hoomd>=7.1"      # a CUDA build for GPUs

It is imported only when a function here runs, so this module imports (and
its :func:`hoomd_available` answers) without it. The command-line scripts in
``hoomd_scripts/`` are thin wrappers around :func:`run_cooling` and
:func:`inherent_structures`; the campaign (``mda-glassml simulate --engine
hoomd``) calls :func:`run_cooling` directly.

Every parameter comes from :class:`~mda_glassml.simulation.protocol.CoolingProtocol`:

- ``hoomd.md.pair.LJ`` on a ``hoomd.md.nlist.Cell`` list, ``mode="none"``
  (unshifted, so HOOMD's potential energy is the paper's), ``r_cut`` per pair
  = 2.5 sigma_ab;
- ``hoomd.md.methods.ConstantVolume`` with an ``MTTK`` (Nosé–Hoover)
  thermostat, ``tau = tdamp``, its ``kT`` a ``hoomd.variant.Ramp`` from
  ``t_start`` to ``t_end`` over the ramp (a constant after a melt for
  equilibrium liquids); ``hoomd.md.update.ZeroMomentum`` every step;
- a 2D box (``Lz = 0``), so HOOMD integrates in 2 dimensions;
- inherent structures with ``hoomd.md.minimize.FIRE`` and a
  ``ConstantVolume`` method without thermostat, in a second simulation on the
  same device (the running dynamics are left untouched, as in the LAMMPS engine).

Records are written by :mod:`mda_glassml.simulation.output` (not
``hoomd.write.GSD``) so that both engines produce byte-compatible layouts
(same log keys, wrapped float32 positions, temporary name then rename).

FIRE's stopping rule differs between engines: LAMMPS stops on the 2-norm of
the whole force vector (``ftol``), HOOMD on ``sum |F| / (N sqrt(N_dof))``
(``force_tol``). For forces of similar size on every particle the 2-norm is
about ``sqrt(N)`` times the mean force, so ``force_tol = ftol / (N sqrt(2))``
asks for the same convergence (the IS energy is converged far below 1e-6
per particle long before either criterion is met: docs/simulation_notes.md).
"""

from __future__ import annotations

import functools
import math
import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..frames import InputError
from .output import (
    LOG_IS_ENERGY,
    LOG_IS_ENERGY_SHIFTED,
    LOG_RECORD,
    LOG_TEMPERATURE,
    CoolingResult,
    RecordWriter,
    output_paths,
    gsd_frame,
    normalise_records,
    pair_shift_energy,
    temp_path,
    wrap_positions,
)
from .protocol import CoolingProtocol, FireSettings, lattice_start

__all__ = ["hoomd_available", "run_cooling", "inherent_structures", "INSTALL_HINT"]

INSTALL_HINT = ("HOOMD-blue is not installed. It is distributed on conda-forge (not PyPI): "
                "conda install -c conda-forge 'hoomd>=7.1' (a CUDA build for GPU runs); or use the LAMMPS engine.")
#: FIRE iterations between convergence checks (one Python round trip each).
_FIRE_CHUNK = 1000


@functools.cache
def _import_hoomd():
    try:
        import hoomd  # noqa: PLC0415 - optional dependency
        import hoomd.md  # noqa: F401, PLC0415
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return hoomd


def hoomd_available() -> bool:
    """True when HOOMD-blue can be imported here."""
    try:
        _import_hoomd()
    except ImportError:
        return False
    return True


def _device(device: str):
    hoomd = _import_hoomd()
    if device == "auto":
        return hoomd.device.auto_select()
    if device == "gpu":
        return hoomd.device.GPU()
    if device == "cpu":
        return hoomd.device.CPU()
    raise InputError(f"device must be 'auto', 'gpu' or 'cpu', got {device!r}")


def _snapshot(protocol: CoolingProtocol, positions: np.ndarray, typeid: np.ndarray):
    hoomd = _import_hoomd()
    snap = hoomd.Snapshot()
    if snap.communicator.rank == 0:
        length = protocol.box_length
        snap.configuration.box = [length, length, 0, 0, 0, 0]  # Lz = 0: a 2D simulation
        snap.particles.N = protocol.n_particles
        snap.particles.types = list(protocol.model.types)
        snap.particles.typeid[:] = typeid
        xyz = np.zeros((protocol.n_particles, 3))
        xyz[:, :2] = positions[:, :2]
        snap.particles.position[:] = xyz
        snap.particles.mass[:] = np.asarray(protocol.model.masses)[typeid]
    return snap


def _lj(protocol: CoolingProtocol):
    """The KA pair force: unshifted LJ, per-pair cutoffs, cell list."""
    hoomd = _import_hoomd()
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.3), mode="none")
    for (a, b), (eps, sigma, rc) in protocol.model.pairs().items():
        lj.params[(a, b)] = {"epsilon": eps, "sigma": sigma}
        lj.r_cut[(a, b)] = rc
    return lj


class _Minimiser:
    """A FIRE simulation that brings copied-in configurations to their inherent structure."""

    def __init__(self, protocol: CoolingProtocol, device, positions: np.ndarray, typeid: np.ndarray):
        hoomd = _import_hoomd()
        self.protocol, self.fire_settings = protocol, protocol.is_fire
        self.sim = hoomd.Simulation(device=device, seed=protocol.seed)
        self.sim.create_state_from_snapshot(_snapshot(protocol, positions, typeid))
        n = protocol.n_particles
        self.fire = hoomd.md.minimize.FIRE(
            dt=protocol.dt,
            force_tol=_force_tol(protocol.is_fire, n),
            angmom_tol=1.0,  # no rotational degrees of freedom
            # HOOMD's energy_tol is absolute per particle; etol = 0 disables it (huge tolerance).
            energy_tol=protocol.is_fire.etol if protocol.is_fire.etol > 0 else 1e30,
            forces=[_lj(protocol)],
            methods=[hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All())],
        )
        self.thermo = hoomd.md.compute.ThermodynamicQuantities(filter=hoomd.filter.All())
        self.sim.operations.integrator = self.fire
        self.sim.operations.computes.append(self.thermo)

    def minimise(self, positions: np.ndarray, fire: FireSettings | None = None) -> tuple[np.ndarray, float, int]:
        """``(positions, total potential energy, iterations)`` of the inherent structure of ``positions``."""
        fire = fire or self.fire_settings
        snap = self.sim.state.get_snapshot()
        if snap.communicator.rank == 0:
            snap.particles.position[:, :2] = positions[:, :2]
            snap.particles.position[:, 2] = 0.0
            snap.particles.velocity[:] = 0.0
        self.sim.state.set_snapshot(snap)
        self.fire.force_tol = _force_tol(fire, self.protocol.n_particles)
        self.fire.reset()
        start = self.sim.timestep
        while not self.fire.converged and self.sim.timestep - start < fire.max_iter:
            self.sim.run(min(_FIRE_CHUNK, fire.max_iter - (self.sim.timestep - start)))
        snap = self.sim.state.get_snapshot()
        return (np.array(snap.particles.position, dtype=np.float64), float(self.thermo.potential_energy),
                int(self.sim.timestep - start))


def _force_tol(fire: FireSettings, n: int) -> float:
    # LAMMPS ftol is the 2-norm of all forces; HOOMD's criterion is sum|F| / (N sqrt(N_dof)) with
    # N_dof = 2N in 2D. Equal forces f on every particle: 2-norm = sqrt(N) f, HOOMD's = f / sqrt(2N).
    return fire.ftol / (math.sqrt(n) * math.sqrt(2 * n))


def run_cooling(
    protocol: CoolingProtocol,
    out_path: str | os.PathLike,
    is_out_path: str | os.PathLike | None = None,
    records: Sequence[int] | None = None,
    progress: bool = True,
    device: str = "auto",
) -> CoolingResult:
    """Run one protocol with HOOMD-blue; same arguments, files and result as
    :func:`mda_glassml.simulation.lammps.run_cooling`, plus ``device``
    (``"auto"``: a GPU if there is one, ``"gpu"``, ``"cpu"``)."""
    from tqdm.auto import tqdm  # noqa: PLC0415

    hoomd = _import_hoomd()
    ks = normalise_records(protocol, records)
    out_path, is_path = output_paths(out_path, is_out_path)

    t0 = time.perf_counter()
    steps_all = protocol.record_steps()
    positions0, typeid = lattice_start(protocol)
    dev = _device(device)

    # The lattice start, minimised (appendix A: at most 1000 FIRE iterations).
    start = _Minimiser(protocol, dev, positions0, typeid)
    relaxed, _, _ = start.minimise(positions0, protocol.start_fire)
    ism = start if is_path is not None else None

    sim = hoomd.Simulation(device=dev, seed=protocol.seed)
    sim.create_state_from_snapshot(_snapshot(protocol, relaxed, typeid))
    melt = protocol.melt_steps
    t_first = protocol.t_melt if melt else protocol.t_start
    # A melt runs at constant t_melt; the ramp (or hold) starts when it ends.
    kT = t_first if melt else hoomd.variant.Ramp(A=protocol.t_start, B=protocol.t_end, t_start=0,
                                                  t_ramp=protocol.n_steps)
    thermostat = hoomd.md.methods.thermostats.MTTK(kT=kT, tau=protocol.tdamp)
    nvt = hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All(), thermostat=thermostat)
    thermo = hoomd.md.compute.ThermodynamicQuantities(filter=hoomd.filter.All())
    sim.operations.integrator = hoomd.md.Integrator(dt=protocol.dt, methods=[nvt], forces=[_lj(protocol)])
    sim.operations.computes.append(thermo)
    if protocol.zero_momentum:
        sim.operations.updaters.append(hoomd.md.update.ZeroMomentum(hoomd.trigger.Periodic(1)))
    # Gaussian velocities at the first set point with zero total momentum, then the thermostat's own dof.
    sim.state.thermalize_particle_momenta(filter=hoomd.filter.All(), kT=t_first)
    sim.run(0)
    thermostat.thermalize_dof()
    if melt:
        sim.run(melt)
        # The quench: the set point jumps from t_melt to the ramp's start (a constant for a hold).
        thermostat.kT = hoomd.variant.Ramp(A=protocol.t_start, B=protocol.t_end, t_start=melt,
                                           t_ramp=protocol.n_steps)

    with RecordWriter(protocol, typeid, out_path, is_path) as writer:
        with tqdm(total=int(steps_all[ks[-1]]), unit="step", disable=not progress, desc="cooling") as bar:
            for k in ks:
                target = int(steps_all[k])
                if target > sim.timestep:
                    bar.update(target - sim.timestep)
                    sim.run(target - sim.timestep)
                snap = sim.state.get_snapshot()
                xyz = writer.thermal(k, target, np.array(snap.particles.position, dtype=np.float64),
                                     float(thermo.potential_energy), float(thermo.kinetic_temperature))
                if ism is not None:
                    is_xyz, e_total, iters = ism.minimise(xyz)
                    writer.inherent(k, target, is_xyz, e_total, iters)
        writer.commit()
    return writer.result(ks, time.perf_counter() - t0)


def inherent_structures(
    protocol: CoolingProtocol,
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    device: str = "auto",
    progress: bool = True,
) -> np.ndarray:
    """FIRE-minimise every frame of a GSD file (from either engine); returns IS energies per particle.

    Writes ``out_path`` (temporary name, then rename) with the inherent
    structures, keeping each frame's step, ``mda_glassml/temperature`` and
    ``mda_glassml/record`` and adding ``mda_glassml/is_energy`` (unshifted)
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
            ism = _Minimiser(protocol, _device(device), np.asarray(first.particles.position, float), typeid)
            for frame in tqdm(src, disable=not progress, desc="inherent structures", unit="frame"):
                xyz, e_total, _ = ism.minimise(np.asarray(frame.particles.position, dtype=np.float64))
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
