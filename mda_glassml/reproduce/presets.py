"""The sizes of a reproduction: ``smoke`` (CI), ``cpu`` (a 2-core machine) and ``paper``.

A preset fixes every campaign (protocol, number of runs, records kept, seed)
and the budgets of the steps that follow. Its sizes are written into the
report beside the paper's, so a reader sees at once what was scaled down.

Examples
--------
>>> from mda_glassml.reproduce.presets import get_preset
>>> cpu = get_preset("cpu")
>>> [c.name for c in cpu.campaigns]
['fast', 'slow', 'liquid_0.547', 'liquid_0.520']
>>> cpu.campaign("slow").protocol.n_steps, cpu.campaign("slow").protocol.n_particles
(1000000, 1080)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..simulation.campaign import RECORD_PRESETS
from ..simulation.protocol import FAST_STEPS, SLOW_STEPS, CoolingProtocol
from ..training.crossval import CNN_SPACE, PAPER_SPACE
from .attention_stats import DEFAULT_VARIANTS

__all__ = ["CampaignSpec", "Preset", "PRESETS", "get_preset"]

#: Records every cooling campaign keeps: the six datasets' and the Tg curve's (T from 1.99 down).
COOLING_RECORDS = tuple(sorted(set(RECORD_PRESETS["datasets"]) | set(RECORD_PRESETS["tg"])))


@dataclass(frozen=True)
class CampaignSpec:
    """One campaign of a preset: its folder name, protocol, runs, records and seed."""

    name: str
    protocol: CoolingProtocol
    n_trajectories: int
    records: tuple[int, ...] | None
    seed: int
    role: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "protocol": self.protocol.to_dict(), "n_trajectories": self.n_trajectories,
                "records": None if self.records is None else list(self.records), "seed": self.seed,
                "role": self.role}


@dataclass(frozen=True)
class Preset:
    """Every size of one reproduction (see the module docstring)."""

    name: str
    description: str
    campaigns: tuple[CampaignSpec, ...]
    tg_n_bootstrap: int = 1000
    #: Nested cross-validation (section II.5): TPE evaluations, epochs each, outer folds.
    cv_evals: int = 15
    cv_epochs: int = 10
    cv_folds: int = 3
    #: The D-MPNN's search space ((low, high, step) or fixed; ``window`` a fraction of the paper's box side).
    dmpnn_space: dict[str, Any] = field(default_factory=lambda: dict(PAPER_SPACE))
    cnn_space: dict[str, Any] = field(default_factory=lambda: dict(CNN_SPACE))
    cnn_image_size: int = 250
    #: The D-MPNN's windows per frame and epoch (and per test frame); the CNN's epochs (None: ``cv_epochs``)
    #: and its random periodic translations (see :class:`~mda_glassml.training.tasks.ImageTask`).
    dmpnn_windows_per_frame: int = 1
    cnn_epochs: int | None = None
    cnn_shift: bool = False
    #: Figure 7's window sides (fractions of the paper's box side, 60; None: whole frames).
    size_fractions: tuple[float | None, ...] = (0.1, 0.15, 0.2, 0.25, 0.3, None)
    #: Figures 8, 9, 16: epochs of the attention model (the original run: 2), windows per test trajectory,
    #: and changes to the original run's hyperparameters.
    attention_epochs: int = 2
    attention_windows: int = 20
    attention_params: dict[str, Any] = field(default_factory=dict)
    #: What the attention trend hangs on: the original run changed one thing at a time (see attention_stats).
    attention_variants: tuple[dict[str, Any], ...] = DEFAULT_VARIANTS
    #: Appendix D: five-fold symmetric pictures classified by each dataset-1 CNN fold model (paper: several hundred).
    synthetic_images: int = 100

    def campaign(self, name: str) -> CampaignSpec:
        for spec in self.campaigns:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def liquid_campaigns(self) -> tuple[CampaignSpec, ...]:
        """Equilibrium-liquid candidates for dataset 6 (the best energy match is chosen)."""
        return tuple(c for c in self.campaigns if c.protocol.is_hold)

    def to_dict(self) -> dict[str, Any]:
        def plain(space: dict[str, Any]) -> dict[str, Any]:
            return {k: list(v) if isinstance(v, tuple) else v for k, v in space.items()}

        return {"name": self.name, "description": self.description,
                "campaigns": [c.to_dict() for c in self.campaigns], "tg_n_bootstrap": self.tg_n_bootstrap,
                "cv_evals": self.cv_evals, "cv_epochs": self.cv_epochs, "cv_folds": self.cv_folds,
                "dmpnn_space": plain(self.dmpnn_space), "cnn_space": plain(self.cnn_space),
                "cnn_image_size": self.cnn_image_size, "dmpnn_windows_per_frame": self.dmpnn_windows_per_frame,
                "cnn_epochs": self.cnn_epochs, "cnn_shift": self.cnn_shift, "size_fractions": list(self.size_fractions),
                "attention_epochs": self.attention_epochs, "attention_windows": self.attention_windows,
                "attention_params": dict(self.attention_params),
                "attention_variants": [json.loads(json.dumps(v)) for v in self.attention_variants],
                "synthetic_images": self.synthetic_images}


# Nested CV's inner 80/10/10 split keeps trajectories whole: a 10 % part needs about 10 trajectories in the
# outer-train 80 %, so datasets 1-5 (one slow run per glass-liquid pair) need at least 13 runs, and dataset 6 13 pairs.
def _campaigns(n: int, fast_steps: int, slow_steps: int, n_fast: int, n_slow: int, n_liquid: int,
               hold_steps: int, liquid_temperatures: tuple[float, ...], records: tuple[int, ...]) -> tuple:
    common = {"n_particles": n}
    specs = [
        CampaignSpec("fast", CoolingProtocol(n_steps=fast_steps, **common), n_fast, records, 101,
                     "fast cooling: Tg and IS curve of the fast rate, dataset 6's glasses, metrics along cooling"),
        CampaignSpec("slow", CoolingProtocol(n_steps=slow_steps, **common), n_slow, records, 102,
                     "slower cooling: Tg and IS curve of the slow rate, datasets 1-5"),
    ]
    for j, t in enumerate(liquid_temperatures):
        specs.append(CampaignSpec(f"liquid_{t:.3f}", CoolingProtocol.hold(t, hold_steps, **common), n_liquid, None,
                                  103 + j, f"equilibrium liquids at T = {t} (dataset 6 candidates)"))
    return tuple(specs)


#: The smoke preset's records: the datasets' and enough of the Tg curve for two regimes.
_SMOKE_RECORDS = (1, 25, 103, 107, 123, 143, 149, 160, 168, 176, 185, 192, 200)

PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        "smoke", "tiny sizes that exercise every step in CI (numbers mean nothing)",
        _campaigns(240, 2_000, 4_000, 13, 13, 13, 2_000, (0.547,), _SMOKE_RECORDS), tg_n_bootstrap=50,
        cv_evals=2, cv_epochs=1,
        dmpnn_space={"k": 2, "window": 0.2, "hidden": (16, 32, 16), "depth": 2, "dropout": 0.0, "ffn_layers": 1,
                     "batch_size": 10},
        cnn_space={"dropout": (0.0, 0.2, 0.1), "batch_size": 10}, cnn_image_size=48,
        size_fractions=(0.1, 0.2, None), attention_windows=4, attention_params={"hidden": 32},
        dmpnn_windows_per_frame=2, cnn_epochs=2, cnn_shift=True, synthetic_images=3,
        attention_variants=({"name": "original", "epochs": 1}, {"name": "sum readout (eq. 8)", "epochs": 1,
                                                                  "options": {"readout": "sum"}})),  # the smoke box (side 14.1) holds windows up to 0.23 x 60
    "cpu": Preset(
        "cpu", "the largest faithful version for a 2-core, 24 GB machine: N = 1080 (box 30); the fast rate "
        "as the paper's (2e5 steps, the same dT/dt); a 5x slower rate (1e6 steps) in place of the paper's "
        "100x slower one (2e7 steps, about 3 h per run here at N = 4320)",
        _campaigns(1080, FAST_STEPS, 1_000_000, 20, 20, 20, 200_000, (0.547, 0.520), COOLING_RECORDS),
        # Table 2's space cut to what trains on one core in minutes; the window fixed at the paper's L = 0.2.
        # A few dozen frames per fold against the paper's thousands: the D-MPNN sees 4 windows of each frame
        # per epoch (and is tested on 4 per frame); the CNN, whole frames only, gets more epochs and random
        # periodic translations so that it takes some hundreds of optimiser steps.
        cv_evals=6, cv_epochs=10,
        dmpnn_space={"k": (2, 4, 1), "window": 0.2, "hidden": (32, 128, 32), "depth": (2, 4, 1),
                     "dropout": (0.0, 0.3, 0.1), "ffn_layers": 1, "batch_size": (10, 20, 10)},
        cnn_space={"dropout": (0.0, 0.5, 0.1), "batch_size": (10, 20, 10)}, cnn_image_size=125,
        dmpnn_windows_per_frame=4, cnn_epochs=60, cnn_shift=True),
    "paper": Preset(
        "paper", "the paper's sizes: N = 4320, 10,000 runs per rate, 2e5 and 2e7 steps (meant for a dask "
        "cluster with HOOMD-blue on GPUs)",
        _campaigns(4320, FAST_STEPS, SLOW_STEPS, 10_000, 10_000, 10_000, 300_000, (0.547,), COOLING_RECORDS),
        synthetic_images=300),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; an :class:`~mda_glassml.errors.InputError` naming the choices otherwise."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
