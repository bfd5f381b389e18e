"""Step 1 of a reproduction: run (or resume) every campaign of the preset.

Each campaign lives in ``OUT/campaigns/<name>`` and is an ordinary
:func:`~mda_glassml.simulation.campaign.run_campaign` folder: killed at any
point, the same call continues, finished runs are kept and half-written ones
are redone; a folder holding another protocol is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..simulation.campaign import run_campaign
from .presets import Preset

__all__ = ["campaign_folder", "run_campaigns"]


def campaign_folder(out: str | Path, name: str) -> Path:
    """Where the preset's campaign ``name`` lives under a reproduction folder."""
    return Path(out) / "campaigns" / name


def run_campaigns(preset: Preset, out: str | Path, engine: str = "lammps", n_workers: int = 1,
                  scheduler: str | None = None, progress: bool = True, device: str = "auto") -> dict[str, Any]:
    """Run every campaign of ``preset`` under ``out``; returns ``{name: {"wall_time_s", "runs"}}``."""
    summary: dict[str, Any] = {}
    for spec in preset.campaigns:
        if progress:
            print(f"campaign {spec.name}: {spec.n_trajectories} runs ({spec.role})", flush=True)
        report = run_campaign(campaign_folder(out, spec.name), spec.protocol, spec.n_trajectories, engine=engine,
                              records=spec.records, campaign_seed=spec.seed, n_workers=n_workers,
                              scheduler=scheduler, progress=progress, device=device)
        summary[spec.name] = {"wall_time_s": report.wall_time_s, "runs": spec.n_trajectories,
                              "already_complete": len(report.skipped)}
    return summary
