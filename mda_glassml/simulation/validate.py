"""Physics checks of a simulation engine: does it reproduce the paper's glass?

Usage::

    python -m mda_glassml.simulation.validate [--out DIR] [--trajectories 4] [--workers 1]
                                              [--engine lammps|hoomd] [--device auto|gpu|cpu]
    python -m mda_glassml.simulation.validate --quick --out DIR     # CI scale, seconds

Runs (or resumes: it is an ordinary campaign) ``--trajectories`` cooling runs
at the paper's fast rate with N = 4320, keeping the records of the ``"tg"``
preset (T from 1.0 to 0.05, dense between 0.2 and 0.7), then checks

1. the IS energy of the T = 0.05 glass is -3.867 +- 0.01 per particle
   (unshifted, the paper's fast-rate value);
2. the mean IS energy falls with T, and flattens below Tg (the glass-side
   slope is smaller than the liquid-side one);
3. the fitted Tg (two linear regimes on the records with T <= 1, bootstrap over
   runs) lies in 0.39 +- 0.05;
4. the glass's first A-A RDF peak is higher than the liquid's (the hottest
   kept record), computed with :func:`mda_glassml.rdf.partial_rdfs`.

``--quick`` runs a scaled-down version (N = 256, 2e4 steps, 3 runs) and only
checks the trends (2 and 4), since a few hundred particles cooled that fast
are not the paper's glass. Writes ``validation.json`` and ``tg.png`` into the
folder and exits with status 1 if a check fails.

The full check costs about 10 minutes per run on one core with either engine
(the FIRE minimisations dominate). Both engines use campaign seed 2021, so
their runs start from the same lattices and velocity seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..frames import Frame
from .campaign import RECORD_PRESETS, Campaign, run_campaign
from .protocol import FAST_STEPS, CoolingProtocol
from .tg import campaign_is_energies, fit_tg

__all__ = ["main", "validate_campaign"]

#: Paper / independent-engine reference values (fast rate, N = 4320, unshifted energies).
GLASS_IS_ENERGY = (-3.867, 0.01)
TG_FAST = (0.39, 0.05)
#: Records above this temperature are left out of the Tg fit.
TG_FIT_T_MAX = 1.0
#: Records of the quick (CI) check: a few temperatures from T = 2 (the liquid RDF), ten of them in T <= 1 (the Tg fit).
QUICK_RECORDS = (1, 25, 50, 75, 107, 113, 125, 133, 143, 149, 160, 175, 190, 200)


def rdf_peaks(campaign: Campaign, r_max: float = 4.0, n_bins: int = 160) -> dict[str, float]:
    """Height of the first A-A g(r) peak of the hottest and the coldest kept record, over all runs."""
    import gsd.hoomd  # noqa: PLC0415

    from ..rdf import partial_rdfs  # noqa: PLC0415

    r_max = min(r_max, 0.49 * campaign.protocol.box_length)
    heights: dict[str, list[float]] = {"liquid": [], "glass": []}
    for i in campaign.complete_runs():
        with gsd.hoomd.open(campaign.paths(i)[0], "r") as traj:
            for name, frame in (("liquid", 0), ("glass", len(campaign.records) - 1)):
                _, rdf = partial_rdfs(Frame.from_gsd(traj[frame], frame=frame), r_max=r_max, n_bins=n_bins)
                heights[name].append(float(rdf["AA"].max()))
    return {name: float(np.mean(v)) for name, v in heights.items()}


def validate_campaign(folder: str | Path, full: bool = True, n_bootstrap: int = 1000) -> dict[str, Any]:
    """Measure and check a finished campaign; returns the numbers and a pass/fail per check."""
    from scipy.stats import spearmanr  # noqa: PLC0415

    campaign = Campaign.open(folder)
    temps, energies = campaign_is_energies(folder)
    # T <= 1.0 only: the hot liquid's own bend would otherwise capture the breakpoint (DESIGN: Tg fit range).
    fit = fit_tg(temps, energies, t_max=TG_FIT_T_MAX, n_bootstrap=n_bootstrap)
    coldest = int(np.argmin(temps))
    glass = energies[:, coldest]
    rho = float(spearmanr(temps, energies.mean(axis=0)).statistic)  # over every record, not just the fit range
    peaks = rdf_peaks(campaign)
    out: dict[str, Any] = {
        "n_particles": campaign.protocol.n_particles,
        "n_steps": campaign.protocol.n_steps,
        "n_trajectories": int(energies.shape[0]),
        "temperatures": [float(t) for t in temps],
        "mean_is_energy": [float(v) for v in energies.mean(axis=0)],
        "sem_is_energy": [float(v) for v in energies.std(axis=0, ddof=1) / np.sqrt(energies.shape[0])]
        if energies.shape[0] > 1 else None,
        "glass_temperature": float(temps[coldest]),
        "glass_is_energy": float(glass.mean()),
        "glass_is_energy_sem": float(glass.std(ddof=1) / np.sqrt(glass.size)) if glass.size > 1 else None,
        "tg": fit.tg,
        "tg_err": fit.tg_err,
        "slope_glass": fit.slope_glass,
        "slope_liquid": fit.slope_liquid,
        "spearman_energy_vs_T": rho,
        "rdf_aa_peak_liquid": peaks["liquid"],
        "rdf_aa_peak_glass": peaks["glass"],
    }
    checks = {
        "IS energy falls with T": rho > 0.8,
        "IS energy flattens below Tg": 0 <= fit.slope_glass < fit.slope_liquid,
        "glass A-A peak higher than liquid's": peaks["glass"] > peaks["liquid"],
    }
    if full:
        checks[f"glass IS energy in {GLASS_IS_ENERGY[0]} +- {GLASS_IS_ENERGY[1]}"] = \
            abs(out["glass_is_energy"] - GLASS_IS_ENERGY[0]) <= GLASS_IS_ENERGY[1]
        checks[f"Tg in {TG_FAST[0]} +- {TG_FAST[1]}"] = abs(fit.tg - TG_FAST[0]) <= TG_FAST[1]
    out["checks"] = checks
    out["passed"] = all(checks.values())
    fig = fit.figure(title=f"N = {out['n_particles']}, {out['n_steps']} steps, {out['n_trajectories']} runs")
    fig.savefig(Path(folder) / "tg.png", dpi=150)
    (Path(folder) / "validation.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mda_glassml.simulation.validate",
                                     description="Check a simulation engine against the paper's glass.")
    parser.add_argument("--out", type=Path, default=Path("validation"), help="campaign folder (default ./validation)")
    parser.add_argument("--trajectories", type=int, default=None, help="runs (default 4; quick: 3)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--engine", default="lammps", help="lammps (default) or hoomd")
    parser.add_argument("--device", default="auto", help="HOOMD-blue only: auto, gpu or cpu")
    parser.add_argument("--quick", action="store_true", help="CI scale: N = 256, 2e4 steps, trends only")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    if args.quick:
        protocol = CoolingProtocol(n_particles=256, n_steps=20_000, n_records=200)
        records, n = QUICK_RECORDS, args.trajectories or 3
    else:
        protocol = CoolingProtocol(n_particles=4320, n_steps=FAST_STEPS, n_records=200)
        records, n = RECORD_PRESETS["tg"], args.trajectories or 4
    report = run_campaign(args.out, protocol, n, engine=args.engine, records=records, campaign_seed=2021,
                          n_workers=args.workers, progress=not args.quiet, device=args.device)
    if not args.quiet:
        print(report.summary())
    result = validate_campaign(args.out, full=not args.quick, n_bootstrap=200 if args.quick else 1000)
    if not args.quiet:
        print(f"{'T':>8} {'<E_IS>':>10} {'sem':>8}")
        for t, e, s in zip(result["temperatures"], result["mean_is_energy"], result["sem_is_energy"]):
            print(f"{t:8.4f} {e:10.5f} {s:8.5f}")
        print(f"glass (T = {result['glass_temperature']:.3f}): {result['glass_is_energy']:.4f} per particle")
        print(f"Tg = {result['tg']:.3f} +- {result['tg_err']:.3f} (slopes {result['slope_glass']:.4f} / "
              f"{result['slope_liquid']:.4f})")
        print(f"first A-A peak: liquid {result['rdf_aa_peak_liquid']:.3f}, glass {result['rdf_aa_peak_glass']:.3f}")
        for name, ok in result["checks"].items():
            print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
