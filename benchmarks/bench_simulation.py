"""Simulation benchmark: per engine, MD steps/s, FIRE iterations/s and the campaign overhead over bare runs.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_simulation.py [--particles 1024] [--steps 40000] [--runs 2]
                                                            [--engines lammps,hoomd] [--device cpu]

Prints, from one invocation, for each engine installed here (LAMMPS on one CPU core;
HOOMD-blue on ``--device``):

1. MD steps per second (dynamics only, no minimisation);
2. FIRE iterations per second: the same run with inherent structures at every kept
   record, less the dynamics-only time, over the iterations FIRE reported;
3. wall time per run of ``run_campaign`` (one local dask worker, runs one after
   another) against bare ``run_cooling`` calls on the same protocol and seeds, before
   and after the campaign (so that a change in machine load shows as their difference,
   not as overhead); the overhead should stay below 5 % of a run of useful length.
"""

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mda_glassml.simulation.campaign import run_campaign, run_seeds
from mda_glassml.simulation.protocol import CoolingProtocol

RECORDS = (1, 200)


def engine_runner(engine, device):
    """``run_cooling`` of an engine with its keyword arguments, or None where it is not installed."""
    if engine == "lammps":
        from mda_glassml.simulation.lammps import lammps_available, run_cooling

        return (lambda *a, **kw: run_cooling(*a, **kw)) if lammps_available() else None
    from mda_glassml.simulation.hoomd_engine import hoomd_available, run_cooling

    return (lambda *a, **kw: run_cooling(*a, device=device, **kw)) if hoomd_available() else None


def bare(run, protocol, seeds, folder):
    t0 = time.perf_counter()
    for i, seed in enumerate(seeds):
        run(replace(protocol, seed=seed), folder / f"b{i}.gsd", folder / f"b{i}_is.gsd", records=RECORDS,
            progress=False)
    return (time.perf_counter() - t0) / len(seeds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=40_000,
                        help="steps of the cooling, a multiple of its 200 records (default 40000)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--engines", default="lammps,hoomd")
    parser.add_argument("--device", default="cpu", help="HOOMD-blue device: cpu, gpu or auto (default cpu)")
    args = parser.parse_args()
    try:
        protocol = CoolingProtocol(n_particles=args.particles, n_steps=args.steps, n_records=200)
    except ValueError as err:  # InputError: the protocol's own message, without a traceback
        parser.error(str(err))
    seeds = run_seeds(1, args.runs)
    print(f"protocol: N = {args.particles}, {args.steps} steps; campaign: records {RECORDS} with FIRE inherent "
          f"structures, {args.runs} runs")
    for engine in args.engines.split(","):
        run = engine_runner(engine, args.device)
        if run is None:
            print(f"{engine}: not installed")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            dyn = run(protocol, tmp / "dyn.gsd", None, records=RECORDS, progress=False)
            full = run(protocol, tmp / "full.gsd", tmp / "full_is.gsd", records=RECORDS, progress=False)
            sps = protocol.total_steps / dyn.wall_time_s
            fire_s = max(full.wall_time_s - dyn.wall_time_s, 1e-9)
            t_before = bare(run, protocol, seeds, tmp)
            t0 = time.perf_counter()
            report = run_campaign(tmp / "campaign", protocol, args.runs, engine=engine, records=RECORDS,
                                  campaign_seed=1, n_workers=1, progress=False,
                                  **({"device": args.device} if engine == "hoomd" else {}))
            t_campaign = (time.perf_counter() - t0) / args.runs
            t_after = bare(run, protocol, seeds, tmp)
        t_bare = 0.5 * (t_before + t_after)
        t_inside = sum(report.run_wall_times_s.values()) / args.runs
        label = engine if engine == "lammps" else f"hoomd ({args.device})"
        print(f"\n{label}")
        print(f"  MD steps per second            {sps:10,.0f}")
        print(f"  FIRE iterations per second     {full.fire_iterations.sum() / fire_s:10,.0f}   "
              f"({full.fire_iterations.tolist()} iterations)")
        print(f"  bare run_cooling               {t_bare:8.2f} s per run   (before {t_before:.2f}, after {t_after:.2f})")
        print(f"  campaign (1 dask worker)       {t_campaign:8.2f} s per run   overhead "
              f"{100 * (t_campaign / t_bare - 1):+.1f} %")
        print(f"    of which inside the workers  {t_inside:8.2f} s per run   (the rest is dask start-up, shipping, "
              f"output checks: {t_campaign - t_inside:.2f} s per run)")


if __name__ == "__main__":
    main()
