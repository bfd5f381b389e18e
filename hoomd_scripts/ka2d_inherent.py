#!/usr/bin/env python
"""Inherent structures (FIRE, HOOMD-blue >= 4) of every frame of a 2D Kob-Andersen GSD file.

Reads any GSD of the protocol's system (from either engine), writes the minimised frames with
'mda_glassml/is_energy' (per particle, unshifted: the paper's convention) and
'mda_glassml/is_energy_shifted' in the log, keeping each frame's step, temperature and record.
Thin: the FIRE settings come from mda_glassml.simulation.protocol; the work is
mda_glassml.simulation.hoomd_engine.inherent_structures.

Example::

    python hoomd_scripts/ka2d_inherent.py --in cool.gsd --out cool_is.gsd --device gpu
"""

import argparse
import sys

from mda_glassml.errors import InputError
from mda_glassml.simulation import hoomd_engine
from mda_glassml.simulation.protocol import CoolingProtocol


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--in", dest="inp", required=True, help="GSD file to minimise")
    p.add_argument("--out", required=True, help="GSD file for the inherent structures")
    p.add_argument("--particles", type=int, default=None, help="default: as in the file")
    p.add_argument("--density", type=float, default=1.2)
    p.add_argument("--device", choices=hoomd_engine.DEVICES, default="auto")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    try:
        n = args.particles
        if n is None:
            import gsd.hoomd

            with gsd.hoomd.open(args.inp, "r") as traj:
                n = int(traj[0].particles.N)
        protocol = CoolingProtocol(n_particles=n, density=args.density)
        energies = hoomd_engine.inherent_structures(protocol, args.inp, args.out, device=args.device,
                                                    progress=not args.quiet)
    except (InputError, ImportError, FileNotFoundError) as err:
        print(f"{p.prog}: error: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        for i, e in enumerate(energies):
            print(f"frame {i:4d}  IS energy {e:.5f} per particle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
