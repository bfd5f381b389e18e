"""Regenerate the bundled example trajectory with LAMMPS.

Usage::

    python -m mda_glassml.simulation.example [--out-dir DIR] [--quiet]

One 4320-particle 2D Kob–Andersen run at the paper's fast rate (2e5 steps,
T = 2.0 -> 0.05), fixed seed, keeping 21 of the 200 records (k = 1, 10, 20,
..., 200, i.e. T = 1.99, 1.9025, ..., 0.05). Record 0 is left out: it is the
FIRE-relaxed lattice start with fresh velocities, not a liquid; the paper's
datasets also start at k = 1 (T = 1.990). Writes

- ``ka2d_cooling.gsd``: the thermal configurations (with set-point and kinetic
  temperature and potential energy per particle in the GSD log);
- ``ka2d_cooling_is.gsd``: their FIRE inherent structures (with the
  inherent-structure energy per particle, unshifted as in the paper).

Default output is the package's ``data/`` directory. On one serial LAMMPS
process (same machine, same LAMMPS build) the result is bit-for-bit
reproducible; different builds or CPUs may differ in the last bits and then
diverge chaotically, with the same statistics. Takes a few minutes on one core.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .protocol import FAST_STEPS, CoolingProtocol

#: The fixed seed of the bundled example (any value in 1..65535 is a valid seed).
EXAMPLE_SEED = 2021
#: Records kept in the example: k = 1 (the paper's dataset-1 liquid), then every 10th up to 200.
EXAMPLE_RECORDS = (1,) + tuple(range(10, 201, 10))
THERMAL_NAME = "ka2d_cooling.gsd"
IS_NAME = "ka2d_cooling_is.gsd"


def example_protocol() -> CoolingProtocol:
    """The protocol of the bundled example: N = 4320, fast rate, fixed seed."""
    return CoolingProtocol(n_particles=4320, n_steps=FAST_STEPS, n_records=200, seed=EXAMPLE_SEED)


def default_out_dir() -> Path:
    """The package's ``data/`` directory, where the example ships."""
    return Path(__file__).resolve().parent.parent / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mda_glassml.simulation.example",
        description="Regenerate the bundled 2D Kob-Andersen cooling example with LAMMPS.",
    )
    parser.add_argument("--out-dir", type=Path, default=default_out_dir(), help="output directory (default: package data/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    from .lammps import run_cooling  # noqa: PLC0415 - LAMMPS is optional

    protocol = example_protocol()
    result = run_cooling(
        protocol,
        args.out_dir / THERMAL_NAME,
        args.out_dir / IS_NAME,
        records=EXAMPLE_RECORDS,
        progress=not args.quiet,
    )
    print(result.table())
    print(f"wrote {result.out_path} and {result.is_out_path} in {result.wall_time_s:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
