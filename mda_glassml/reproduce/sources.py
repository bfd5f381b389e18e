"""Frames of a campaign folder, as the experiments read them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..frames import Frame
from ..simulation.campaign import Campaign

__all__ = ["campaign_frames"]


def campaign_frames(folder: str | Path, inherent: bool = False) -> tuple[list[Frame], np.ndarray]:
    """Every kept record of every complete run (thermal or inherent structures) and its set-point T."""
    import gsd.hoomd  # noqa: PLC0415

    campaign = Campaign.open(folder)
    temps = campaign.protocol.record_temperatures()[list(campaign.records)]
    frames, t = [], []
    for i in campaign.complete_runs():
        with gsd.hoomd.open(campaign.paths(i)[1 if inherent else 0], "r") as traj:
            for j, snap in enumerate(traj):
                frames.append(Frame.from_gsd(snap, frame=j))
                t.append(temps[j])
    return frames, np.asarray(t)
