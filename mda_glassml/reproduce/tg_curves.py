"""Figure 1: mean inherent-structure energy against T for each cooling rate, with Tg.

Each rate's Tg comes from :func:`~mda_glassml.simulation.tg.fit_tg` with
``t_max="auto"`` (the widest range whose liquid branch is straight); the fit
over the whole curve is reported beside it, to show what the range choice
does (over a whole curve the hot liquid's bend takes the breakpoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..errors import InputError
from ..simulation.tg import TgFit, campaign_is_energies, fit_tg

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["TgCurves", "tg_curves"]


@dataclass
class TgCurves:
    """One :class:`~mda_glassml.simulation.tg.TgFit` per rate, and the whole-curve fit beside it."""

    fits: dict[str, TgFit]
    whole_curve_tg: dict[str, float | None]
    glass_energy: dict[str, tuple[float, float]]
    n_steps: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {rate: {"tg": f.tg, "tg_err": f.tg_err, "t_max": f.t_max, "n_trajectories": f.n_trajectories,
                       "whole_curve_tg": self.whole_curve_tg[rate], "glass_is_energy": self.glass_energy[rate][0],
                       "glass_is_energy_sd": self.glass_energy[rate][1], "n_steps": self.n_steps[rate],
                       "slope_glass": f.slope_glass, "slope_liquid": f.slope_liquid}
                for rate, f in self.fits.items()}

    def figure(self) -> "Figure":
        """Both curves (all records, mean ± s.e.m.) with their fitted lines and Tg."""
        from matplotlib.figure import Figure  # noqa: PLC0415

        fig = Figure(figsize=(6.0, 4.0), layout="constrained")
        ax = fig.add_subplot()
        for c, (rate, f) in enumerate(self.fits.items()):
            ax.errorbar(f.temperatures, f.mean_energy, yerr=f.sem_energy, fmt="o", ms=3, color=f"C{c}",
                        label=f"{rate} ({self.n_steps[rate]:.0e} steps, {f.n_trajectories} runs)")
            t = np.linspace(f.temperatures.min(), f.temperatures.max(), 200)
            ax.plot(t, f.predict(t), color=f"C{c}", lw=1)
            ax.axvline(f.tg, color=f"C{c}", ls=":", label=f"Tg {rate} = {f.tg:.3f} ± {f.tg_err:.3f}")
        ax.set_xlabel("temperature T")
        ax.set_ylabel("IS energy per particle (unshifted)")
        ax.set_title("Inherent-structure energy along cooling (Figure 1a)")
        ax.legend(fontsize="x-small")
        return fig


def _glass(temps: np.ndarray, energies: np.ndarray) -> tuple[float, float]:
    coldest = energies[:, int(np.argmin(temps))]
    return float(coldest.mean()), float(coldest.std(ddof=1)) if coldest.size > 1 else float("nan")


def tg_curves(campaigns: Mapping[str, Any], n_bootstrap: int = 1000) -> TgCurves:
    """Fit Tg for each ``{rate name: campaign folder}``."""
    from ..simulation.campaign import Campaign  # noqa: PLC0415

    fits, whole, glass, steps = {}, {}, {}, {}
    for rate, folder in campaigns.items():
        temps, energies = campaign_is_energies(folder)
        fits[rate] = fit_tg(temps, energies, t_max="auto", n_bootstrap=n_bootstrap)
        try:
            whole[rate] = fit_tg(temps, energies, n_bootstrap=0).tg
        except InputError:
            whole[rate] = None
        glass[rate] = _glass(temps, energies)
        steps[rate] = Campaign.open(folder).protocol.n_steps
    return TgCurves(fits, whole, glass, steps)
