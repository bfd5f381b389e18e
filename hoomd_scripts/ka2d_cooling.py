#!/usr/bin/env python
"""One 2D Kob-Andersen run with HOOMD-blue (>= 4.8): cooling T = 2 -> 0.05, or an equilibrium liquid.

Thin: every parameter comes from mda_glassml.simulation.protocol; the run itself is
mda_glassml.simulation.hoomd_engine.run_cooling, which writes the same GSD layout and
log keys as the LAMMPS engine ('mda_glassml/temperature', 'mda_glassml/is_energy', ...).

Examples::

    # the paper's fast rate, records of the six datasets, GPU if there is one
    python hoomd_scripts/ka2d_cooling.py --out cool.gsd --is-out cool_is.gsd --seed 7
    # the slow rate on the CPU
    python hoomd_scripts/ka2d_cooling.py --steps 20000000 --device cpu --out slow.gsd --is-out slow_is.gsd
    # an equilibrium liquid for dataset 6
    python hoomd_scripts/ka2d_cooling.py --hold-temperature 0.547 --hold-steps 300000 --out liq.gsd --is-out liq_is.gsd

For many runs use ``mda-glassml simulate --engine hoomd`` (restartable, on dask).
Install HOOMD-blue (4.8, the version tested) from conda-forge: ``conda install -c conda-forge "hoomd>=4.8"``.
"""

import argparse
import sys

from mda_glassml.errors import InputError
from mda_glassml.simulation import hoomd_engine
from mda_glassml.simulation.campaign import parse_records
from mda_glassml.simulation.protocol import make_protocol


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="GSD file of the thermal records")
    p.add_argument("--is-out", help="GSD file of their FIRE inherent structures (default: none)")
    p.add_argument("--particles", type=int, default=4320)
    p.add_argument("--density", type=float, default=1.2)
    p.add_argument("--steps", type=int, default=None, help="cooling steps (default 200000, the fast rate)")
    p.add_argument("--records", default=None, help="preset (datasets, tg, all) or comma-separated k")
    p.add_argument("--seed", type=int, default=1, help="seed, 1..65535")
    p.add_argument("--hold-temperature", type=float, default=None)
    p.add_argument("--hold-steps", type=int, default=None)
    p.add_argument("--hold-records", type=int, default=1)
    p.add_argument("--melt-steps", type=int, default=10_000)
    p.add_argument("--device", choices=hoomd_engine.DEVICES, default="auto",
                   help="default auto: a GPU if available, else the CPU with a warning")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    try:
        from dataclasses import replace

        protocol = replace(make_protocol(args.particles, args.density, args.steps, args.hold_temperature,
                                         args.hold_steps, args.melt_steps, args.hold_records), seed=args.seed)
        result = hoomd_engine.run_cooling(protocol, args.out, args.is_out, records=parse_records(args.records, protocol),
                                          progress=not args.quiet, device=args.device)
    except (InputError, ImportError) as err:
        print(f"{p.prog}: error: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(result.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
