"""The 2D Kob–Andersen model and the paper's cooling protocol, as plain data.

This module is the single source of truth for every simulation engine (the
LAMMPS engine in :mod:`mda_glassml.simulation.lammps`, the HOOMD-blue scripts in
``hoomd_scripts/``): engines read their parameters from here and never restate
them. Nothing here runs a simulation or imports an engine.

The model (paper section II.1, Table 1; Kob & Andersen 1995 in 2D):

- binary mixture, 65 % type ``"A"`` and 35 % type ``"B"``, unit masses;
- Lennard-Jones pairs ``V(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6]`` with
  (eps, sigma) = AA (1.0, 1.0), AB (1.5, 0.80), BB (0.5, 0.88);
- each pair cut at ``2.5 * sigma_ab``.

Energy convention: the paper's energies are the plain (unshifted) truncated
Lennard-Jones energy. Shifting the potential so that ``V(r_c) = 0`` changes no
force, only the reported energy (by about +0.17 per particle at density 1.2),
so engines run unshifted and report the unshifted energy; the per-pair shift
constants are available from :meth:`KAModel.shift_constant` for anyone who
needs the shifted number.

The protocol (paper section II.1 and appendix A): square periodic box at number
density 1.2 (4320 particles -> side 60), lattice start minimised by FIRE,
Gaussian velocities at T = 2.0 with zero total momentum, NVT Nosé–Hoover
(damping 0.5 time units), timestep 0.005, temperature set point ramped
linearly from 2.0 to 0.05 over ``n_steps`` steps (2e5 "fast", 2e7 "slow"),
``n_records`` equally spaced records, record ``k`` at
``T_k = T_start + (T_end - T_start) k / n_records`` (= 2 - 1.95 k / 200 for the
paper), each record's inherent structure found by FIRE.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

import numpy as np

from ..errors import InputError

__all__ = [
    "FAST_STEPS",
    "SLOW_STEPS",
    "KAModel",
    "FireSettings",
    "CoolingProtocol",
    "lattice_start",
    "make_protocol",
]

#: The paper's fast cooling: 2e5 steps from T = 2.0 to T = 0.05 (Tg about 0.39).
FAST_STEPS = 200_000
#: The paper's slow cooling: 2e7 steps from T = 2.0 to T = 0.05 (Tg about 0.37).
SLOW_STEPS = 20_000_000

# HOOMD-blue (>= 3) truncates its seed to 16 bits and LAMMPS wants a seed > 0,
# so the one seed range valid for every engine is 1..65535.
_SEED_MIN, _SEED_MAX = 1, 65_535


@dataclass(frozen=True)
class KAModel:
    """The 2D Kob–Andersen binary Lennard-Jones mixture.

    Parameters are in Lennard-Jones units. ``lj`` maps a pair of type names
    (in the order of ``types``) to ``(epsilon, sigma)``; each pair is cut at
    ``cutoff_factor * sigma`` of that pair.
    """

    types: tuple[str, str] = ("A", "B")
    fraction_a: float = 0.65
    masses: tuple[float, float] = (1.0, 1.0)
    lj_aa: tuple[float, float] = (1.0, 1.0)
    lj_ab: tuple[float, float] = (1.5, 0.80)
    lj_bb: tuple[float, float] = (0.5, 0.88)
    cutoff_factor: float = 2.5

    def __post_init__(self) -> None:
        # Coerce list inputs (e.g. from JSON) to tuples so the frozen object
        # stays hashable and equal to one built from tuples.
        for name in ("types", "masses", "lj_aa", "lj_ab", "lj_bb"):
            value = getattr(self, name)
            if len(value) != 2:
                raise InputError(f"KAModel.{name} must have exactly 2 entries, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        if self.types[0] == self.types[1]:
            raise InputError(f"KAModel.types must be two distinct names, got {self.types!r}")
        if not 0.0 < self.fraction_a < 1.0:
            raise InputError(f"KAModel.fraction_a must lie strictly between 0 and 1, got {self.fraction_a}")
        if any(m <= 0 for m in self.masses):
            raise InputError(f"KAModel.masses must be positive, got {self.masses}")
        for name in ("lj_aa", "lj_ab", "lj_bb"):
            eps, sigma = getattr(self, name)
            if eps <= 0 or sigma <= 0:
                raise InputError(f"KAModel.{name} = (epsilon, sigma) must both be positive, got {(eps, sigma)}")
        if self.cutoff_factor <= 1.0:
            raise InputError(
                f"KAModel.cutoff_factor must exceed 1 (the cut must lie beyond the repulsive core), "
                f"got {self.cutoff_factor}"
            )

    def pair(self, a: str, b: str) -> tuple[float, float, float]:
        """``(epsilon, sigma, r_cut)`` of the pair of type names ``a``, ``b`` (order-free)."""
        ta, tb = self.types
        key = frozenset((a, b))
        table = {
            frozenset((ta,)): self.lj_aa,
            frozenset((ta, tb)): self.lj_ab,
            frozenset((tb,)): self.lj_bb,
        }
        if key not in table:
            raise InputError(f"unknown type pair ({a!r}, {b!r}); types are {self.types}")
        eps, sigma = table[key]
        return eps, sigma, self.cutoff_factor * sigma

    def pairs(self) -> dict[tuple[str, str], tuple[float, float, float]]:
        """All three pairs: ``{(a, b): (epsilon, sigma, r_cut)}`` with ``a <= b`` in type order."""
        ta, tb = self.types
        return {(ta, ta): self.pair(ta, ta), (ta, tb): self.pair(ta, tb), (tb, tb): self.pair(tb, tb)}

    def max_cutoff(self) -> float:
        """The largest pair cutoff (what a neighbour list must reach)."""
        return max(rc for _, _, rc in self.pairs().values())

    def shift_constant(self, a: str, b: str) -> float:
        """``V_ab(r_cut)``: what a shifted potential subtracts per pair inside the cut.

        Negative (the cut lies in the attractive tail), so the shifted energy
        ``E_unshifted - sum_pairs V(r_cut)`` is higher than the unshifted one.
        """
        eps, sigma, rc = self.pair(a, b)
        sr6 = (sigma / rc) ** 6
        return 4.0 * eps * (sr6 * sr6 - sr6)

    def n_b(self, n_particles: int) -> int:
        """Number of B particles: ``round((1 - fraction_a) N)``."""
        return int(round((1.0 - self.fraction_a) * n_particles))

    def n_a(self, n_particles: int) -> int:
        """Number of A particles: ``N - n_b``, so the two always add up to ``N``."""
        return n_particles - self.n_b(n_particles)


@dataclass(frozen=True)
class FireSettings:
    """Stopping criteria of a FIRE minimisation (LAMMPS ``minimize`` arguments).

    ``etol`` is the relative energy change between iterations, ``ftol`` the
    2-norm of the whole force vector (LAMMPS' default norm), ``max_iter`` and
    ``max_eval`` caps on iterations and force evaluations. The minimiser stops
    at whichever is met first; ``etol = 0`` disables the energy criterion.
    """

    etol: float = 0.0
    ftol: float = 1e-6
    max_iter: int = 10_000_000
    max_eval: int = 10_000_000

    def __post_init__(self) -> None:
        if self.etol < 0 or self.ftol < 0:
            raise InputError(f"FIRE tolerances must be >= 0, got etol={self.etol}, ftol={self.ftol}")
        if self.etol == 0 and self.ftol == 0:
            raise InputError("FIRE needs etol > 0 or ftol > 0, otherwise it only stops at max_iter")
        if self.max_iter < 1 or self.max_eval < 1:
            raise InputError(f"FIRE max_iter and max_eval must be >= 1, got {self.max_iter}, {self.max_eval}")


# Appendix A: the lattice start is minimised with at most 1000 iterations and
# 1000 force evaluations (it only has to remove overlaps before heating to
# T = 2); the paper's tolerances are lost from the text, so we use our own.
_START_FIRE = FireSettings(etol=0.0, ftol=1e-4, max_iter=1000, max_eval=1000)
# Appendix A: inherent structures with up to 1e7 iterations/evaluations. With
# ftol = 1e-6 on the whole-system force norm the energy per particle is
# converged far below the 1e-3 differences that matter (docs/simulation_notes.md).
_IS_FIRE = FireSettings(etol=0.0, ftol=1e-6, max_iter=10_000_000, max_eval=10_000_000)


@dataclass(frozen=True)
class CoolingProtocol:
    """One linear-cooling run of the 2D KA mixture, as data.

    Record ``k`` (``0 <= k <= n_records``) is taken after
    ``k * n_steps / n_records`` steps, when the thermostat set point is
    ``T_start + (T_end - T_start) k / n_records``. Record 0 is the FIRE-minimised
    lattice with fresh T_start velocities (not yet a liquid); the paper's
    datasets use records 1..200.

    Use :meth:`fast` / :meth:`slow` for the paper's two rates, or give any
    ``n_steps`` that ``n_records`` divides.

    With ``melt_steps > 0`` the run starts with a melt: velocities at
    ``t_melt``, ``melt_steps`` steps at constant ``t_melt``, then the set
    point jumps to ``t_start`` and the ramp begins (record ``k`` then falls
    ``melt_steps + k * n_steps / n_records`` steps after the velocities are
    drawn). An equilibrium liquid at temperature T is the special case
    ``t_start == t_end == T`` after a melt: see :meth:`hold`. With
    ``melt_steps = 0`` (the paper's cooling) the velocities are drawn at
    ``t_start`` and ``t_melt`` is unused.

    Examples
    --------
    >>> p = CoolingProtocol.fast(n_particles=4320)
    >>> p.box_length, round(float(p.record_temperatures()[149]), 5)
    (60.0, 0.54725)
    >>> liquid = CoolingProtocol.hold(0.547, 300_000, n_records=3)
    >>> liquid.record_steps().tolist(), liquid.record_temperatures().tolist()
    ([10000, 110000, 210000, 310000], [2.0, 0.547, 0.547, 0.547])
    """

    n_particles: int = 4320
    density: float = 1.2
    dt: float = 0.005
    tdamp: float = 0.5
    t_start: float = 2.0
    t_end: float = 0.05
    n_steps: int = FAST_STEPS
    n_records: int = 200
    seed: int = 1
    zero_momentum: bool = True
    melt_steps: int = 0
    t_melt: float = 2.0
    model: KAModel = field(default_factory=KAModel)
    start_fire: FireSettings = _START_FIRE
    is_fire: FireSettings = _IS_FIRE

    # -- construction -----------------------------------------------------
    def __post_init__(self) -> None:
        def _int(name: str) -> int:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise InputError(f"CoolingProtocol.{name} must be an integer, got {value!r}")
            return int(value)

        n = _int("n_particles")
        if n < 2:
            raise InputError(f"CoolingProtocol.n_particles must be at least 2, got {n}")
        if self.model.n_b(n) < 1 or self.model.n_a(n) < 1:
            raise InputError(
                f"n_particles = {n} with fraction_a = {self.model.fraction_a} leaves no particle of one type; "
                "use more particles"
            )
        if not self.density > 0:
            raise InputError(f"CoolingProtocol.density must be positive, got {self.density}")
        # Pair forces use the minimum image: a box narrower than two cutoffs would let a particle
        # meet a neighbour and its image (our own checks would be wrong).
        self.check_box_side()
        if not self.dt > 0:
            raise InputError(f"CoolingProtocol.dt must be positive, got {self.dt}")
        if not self.tdamp > 0:
            raise InputError(f"CoolingProtocol.tdamp (Nosé–Hoover damping time) must be positive, got {self.tdamp}")
        if not (self.t_start > 0 and self.t_end > 0):
            raise InputError(
                f"temperatures must be positive, got t_start={self.t_start}, t_end={self.t_end}"
            )
        if self.t_end > self.t_start:
            raise InputError(
                f"a cooling protocol needs t_end <= t_start, got t_start={self.t_start}, t_end={self.t_end}"
            )
        melt = _int("melt_steps")
        if melt < 0:
            raise InputError(f"CoolingProtocol.melt_steps must be >= 0, got {melt}")
        if melt and not self.t_melt > 0:
            raise InputError(f"CoolingProtocol.t_melt must be positive, got {self.t_melt}")
        steps = _int("n_steps")
        records = _int("n_records")
        if records < 1:
            raise InputError(f"CoolingProtocol.n_records must be at least 1, got {records}")
        if steps < 1:
            raise InputError(f"CoolingProtocol.n_steps must be a positive number of steps, got {steps}")
        if steps % records:
            raise InputError(
                f"n_steps = {steps} is not divisible by n_records = {records}: records must fall on whole "
                f"steps; pick n_steps as a multiple of {records} (e.g. {records * max(1, round(steps / records))})"
            )
        seed = _int("seed")
        if not _SEED_MIN <= seed <= _SEED_MAX:
            raise InputError(
                f"CoolingProtocol.seed must be in [{_SEED_MIN}, {_SEED_MAX}] (valid for both LAMMPS and "
                f"HOOMD-blue), got {seed}"
            )
        # Store plain ints (numpy integers would leak into to_dict/JSON).
        for name, value in (("n_particles", n), ("n_steps", steps), ("n_records", records), ("seed", seed),
                            ("melt_steps", melt)):
            object.__setattr__(self, name, value)

    def check_box_side(self, margin: float = 0.0, engine: str | None = None) -> None:
        """Refuse a box narrower than twice (the largest pair cutoff + ``margin``).

        ``margin`` is an engine's extra need (HOOMD-blue: its neighbour-list
        buffer), named by ``engine`` in the message.
        """
        need = 2 * (self.model.max_cutoff() + margin)
        side = math.sqrt(self.n_particles / self.density)
        if side < need:
            why = (f"{engine} needs at least {need:.3g} (twice the largest pair cutoff plus its margin {margin:g})"
                   if engine else f"narrower than twice the largest pair cutoff ({need:.3g})")
            raise InputError(
                f"n_particles = {self.n_particles} at density {self.density} makes a box of side {side:.3g}, "
                f"{why}; use at least {math.ceil(need ** 2 * self.density)} particles"
                + (", or the LAMMPS engine" if engine else "")
            )

    @classmethod
    def fast(cls, **kwargs: Any) -> "CoolingProtocol":
        """The paper's fast rate (2e5 steps); other fields from ``kwargs``."""
        return cls(n_steps=FAST_STEPS, **kwargs)

    @classmethod
    def slow(cls, **kwargs: Any) -> "CoolingProtocol":
        """The paper's slow rate (2e7 steps); other fields from ``kwargs``."""
        return cls(n_steps=SLOW_STEPS, **kwargs)

    @classmethod
    def hold(cls, temperature: float, hold_steps: int, melt_steps: int = 10_000, t_melt: float = 2.0,
             n_records: int = 1, **kwargs: Any) -> "CoolingProtocol":
        """An equilibrium liquid: melt at ``t_melt``, quench to ``temperature``, hold ``hold_steps``.

        The records are spread over the hold (the last at its end). Liquids
        quenched from T = 2 to T = 0.547 reach their inherent-structure energy
        plateau after about 2e5 steps (1000 time units); hold at least that.
        The default melt, 1e4 steps (50 time units) at T = 2, is many
        structural relaxation times of the hot liquid.
        """
        return cls(t_start=temperature, t_end=temperature, n_steps=hold_steps, n_records=n_records,
                   melt_steps=melt_steps, t_melt=t_melt, **kwargs)

    @property
    def is_hold(self) -> bool:
        """True for an equilibrium-liquid protocol (constant set point after a melt)."""
        return self.melt_steps > 0 and self.t_start == self.t_end

    @property
    def total_steps(self) -> int:
        """All MD steps of one run: the melt plus the ramp."""
        return self.melt_steps + self.n_steps

    # -- derived quantities ---------------------------------------------------
    @property
    def box_length(self) -> float:
        """Side of the square box: ``sqrt(N / density)`` (60 for 4320 at 1.2)."""
        return math.sqrt(self.n_particles / self.density)

    @property
    def n_a(self) -> int:
        """Number of A particles."""
        return self.model.n_a(self.n_particles)

    @property
    def n_b(self) -> int:
        """Number of B particles, ``round(0.35 N)``."""
        return self.model.n_b(self.n_particles)

    @property
    def steps_per_record(self) -> int:
        """Steps between consecutive records."""
        return self.n_steps // self.n_records

    def record_steps(self) -> np.ndarray:
        """Step of every record ``k = 0..n_records`` (int64, length ``n_records + 1``).

        Counted from the drawing of the velocities, so the melt (if any) comes first.
        """
        return self.melt_steps + np.arange(self.n_records + 1, dtype=np.int64) * self.steps_per_record

    def record_temperatures(self) -> np.ndarray:
        """Set-point temperature of every record ``k = 0..n_records`` (float64).

        ``T_k = T_start + (T_end - T_start) k / n_records``; for the paper,
        ``T_k = 2 - 1.95 k / 200``. After a melt (``melt_steps > 0``, e.g. a
        hold) record 0 is the configuration at the end of the melt, made at
        ``t_melt``, and is tagged so, although the set point
        (:meth:`temperature_at_step`) leaves ``t_melt`` at that very step.
        """
        k = np.arange(self.n_records + 1, dtype=np.float64)
        temps = self.t_start + (self.t_end - self.t_start) * k / self.n_records
        if self.melt_steps:
            temps[0] = self.t_melt
        return temps

    def temperature_at_step(self, step: int) -> float:
        """The set point after ``step`` steps (what the thermostat targets; melt first, then the ramp)."""
        if not 0 <= step <= self.total_steps:
            raise InputError(f"step must be in [0, {self.total_steps}], got {step}")
        if step < self.melt_steps:
            return self.t_melt
        return self.t_start + (self.t_end - self.t_start) * (step - self.melt_steps) / self.n_steps

    # -- serialisation (for run manifests) -------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every parameter (nested model and FIRE settings)."""
        d = asdict(self)
        d["model"] = {k: list(v) if isinstance(v, tuple) else v for k, v in d["model"].items()}
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CoolingProtocol":
        """Inverse of :meth:`to_dict`; unknown keys are an error (they signal a typo or a newer format)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"unknown CoolingProtocol fields: {sorted(unknown)}; known: {sorted(known)}")
        kwargs = dict(data)
        if "model" in kwargs and not isinstance(kwargs["model"], KAModel):
            kwargs["model"] = _from_mapping(KAModel, kwargs["model"])
        for name in ("start_fire", "is_fire"):
            if name in kwargs and not isinstance(kwargs[name], FireSettings):
                kwargs[name] = _from_mapping(FireSettings, kwargs[name])
        return cls(**kwargs)


def _from_mapping(kind: type, data: Mapping[str, Any]) -> Any:
    known = {f.name for f in fields(kind)}
    unknown = set(data) - known
    if unknown:
        raise InputError(f"unknown {kind.__name__} fields: {sorted(unknown)}; known: {sorted(known)}")
    return kind(**data)


def lattice_start(protocol: CoolingProtocol) -> tuple[np.ndarray, np.ndarray]:
    """Initial configuration: a square lattice filling the box, types shuffled.

    Returns ``(positions, typeid)``: positions ``(N, 2)`` float64 inside the
    box ``[-L/2, L/2)^2`` (centred on the origin, as in HOOMD/GSD), typeid
    ``(N,)`` int32 with exactly ``n_a`` zeros (A) and ``n_b`` ones (B) placed by
    a random permutation seeded with ``protocol.seed``.

    Why a lattice: random starts contain near-overlaps whose huge forces make
    FIRE fling atoms out of the box. A grid of ``m x m`` sites with
    ``m = ceil(sqrt(N))`` has spacing ``L / m`` (0.909 for N = 4320, above every
    sigma_ab but 1.0); when ``m^2 > N`` the unused sites are spread evenly
    through the grid so that no region is depleted.
    """
    n = protocol.n_particles
    length = protocol.box_length
    m = math.ceil(math.sqrt(n))
    spacing = length / m
    # Evenly spaced subset of the m*m sites (all of them when m*m == N).
    sites = np.floor(np.arange(n) * (m * m) / n).astype(np.int64)
    ix, iy = sites % m, sites // m
    positions = np.empty((n, 2), dtype=np.float64)
    positions[:, 0] = -0.5 * length + (ix + 0.5) * spacing
    positions[:, 1] = -0.5 * length + (iy + 0.5) * spacing
    typeid = np.zeros(n, dtype=np.int32)
    rng = np.random.default_rng(protocol.seed)
    typeid[rng.permutation(n)[: protocol.n_b]] = 1
    return positions, typeid


def make_protocol(
    n_particles: int = 4320,
    density: float = 1.2,
    steps: int | None = None,
    hold_temperature: float | None = None,
    hold_steps: int | None = None,
    melt_steps: int = 10_000,
    hold_records: int = 1,
) -> CoolingProtocol:
    """The protocol that command-line options describe (shared by ``mda-glassml simulate`` and ``hoomd_scripts/``).

    A cooling run (``steps`` from T = 2 to 0.05, default the fast rate) or,
    with ``hold_temperature``, an equilibrium liquid (:meth:`CoolingProtocol.hold`,
    ``hold_steps`` default 3e5).

    >>> make_protocol(hold_temperature=0.547).is_hold
    True
    """
    common = {"n_particles": n_particles, "density": density}
    if hold_temperature is not None:
        if steps is not None:
            raise InputError("--steps sets a cooling run; for a hold use --hold-steps")
        return CoolingProtocol.hold(hold_temperature, 300_000 if hold_steps is None else hold_steps,
                                    melt_steps=melt_steps, n_records=hold_records, **common)
    if hold_steps is not None:
        raise InputError("--hold-steps needs --hold-temperature")
    return CoolingProtocol(n_steps=FAST_STEPS if steps is None else steps, **common)
