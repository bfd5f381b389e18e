"""Simulation benchmark: campaign overhead over bare LAMMPS, and MD steps per second per engine.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_simulation.py [--particles 1024] [--steps 40000] [--runs 2]

Prints, from one invocation:

1. wall time per run of ``run_campaign`` (one local dask worker, runs one after
   another) against bare ``lammps.run_cooling`` calls on the same protocol and
   seeds; the overhead (dask start-up, task shipping, GSD validation of the
   outputs, completion records) should stay below 5 % of a run of useful length;
2. MD steps per second of each engine installed here (dynamics only, no
   minimisation): LAMMPS on one CPU core; HOOMD-blue on its default device.
"""

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mda_glassml.simulation.campaign import run_campaign, run_seeds
from mda_glassml.simulation.protocol import CoolingProtocol

RECORDS = (1, 200)


def bare(protocol, seeds, folder):
    from mda_glassml.simulation.lammps import run_cooling

    t0 = time.perf_counter()
    for i, seed in enumerate(seeds):
        run_cooling(replace(protocol, seed=seed), folder / f"b{i}.gsd", folder / f"b{i}_is.gsd",
                    records=RECORDS, progress=False)
    return (time.perf_counter() - t0) / len(seeds)


def steps_per_second(engine, protocol, folder):
    if engine == "lammps":
        from mda_glassml.simulation.lammps import lammps_available, run_cooling
        if not lammps_available():
            return None
        kwargs = {}
    else:
        from mda_glassml.simulation.hoomd_engine import hoomd_available, run_cooling
        if not hoomd_available():
            return None
        kwargs = {"device": "auto"}
    result = run_cooling(protocol, folder / f"sps_{engine}.gsd", records=[protocol.n_records], progress=False,
                         **kwargs)
    return protocol.total_steps / result.wall_time_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    protocol = CoolingProtocol(n_particles=args.particles, n_steps=args.steps, n_records=200)
    seeds = run_seeds(1, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Bare runs before and after the campaign, so that a change in machine load during the
        # benchmark shows up as a difference between the two rather than as campaign overhead.
        t_before = bare(protocol, seeds, tmp)
        t0 = time.perf_counter()
        report = run_campaign(tmp / "campaign", protocol, args.runs, records=RECORDS, campaign_seed=1,
                              n_workers=1, progress=False)
        t_campaign = (time.perf_counter() - t0) / args.runs
        t_after = bare(protocol, seeds, tmp)
        t_bare = 0.5 * (t_before + t_after)
        t_inside = sum(report.run_wall_times_s.values()) / args.runs
        print(f"protocol: N = {args.particles}, {args.steps} steps, records {RECORDS} with FIRE inherent structures, "
              f"{args.runs} runs")
        print(f"bare lammps.run_cooling        {t_bare:8.2f} s per run   (before {t_before:.2f}, after {t_after:.2f})")
        print(f"campaign (1 dask worker)       {t_campaign:8.2f} s per run   overhead "
              f"{100 * (t_campaign / t_bare - 1):+.1f} %")
        print(f"  of which inside the workers  {t_inside:8.2f} s per run   (the rest is dask start-up, shipping, "
              f"output checks: {t_campaign - t_inside:.2f} s per run)")
        dyn = CoolingProtocol(n_particles=args.particles, n_steps=args.steps, n_records=1)
        for engine in ("lammps", "hoomd"):
            sps = steps_per_second(engine, dyn, tmp)
            print(f"{engine:7s} MD steps per second (N = {args.particles}): "
                  + ("not installed" if sps is None else f"{sps:,.0f}"))


if __name__ == "__main__":
    main()
