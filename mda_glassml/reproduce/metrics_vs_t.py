"""Figures 10 and 17: the three B-neighbor metrics against temperature along cooling, around Tg.

The paper's regression (its equation 12), per metric and per graph
definition, fitted by ordinary least squares with statsmodels::

    metric ~ T + I(T > Tg) + T * I(T > Tg)

The interaction coefficient says whether the metric's slope in T changes at
Tg: its p-value is the paper's test of "the metric sees the glass
transition". Every frame of every run is one observation; the runs'
records are correlated along a run, so the p-values are those of OLS (as in
the paper), not of a model of that correlation.

Examples
--------
>>> import numpy as np
>>> from mda_glassml.reproduce.metrics_vs_t import fit_interaction
>>> T = np.repeat(np.linspace(0.05, 1.0, 20), 5)
>>> y = np.where(T > 0.4, 0.3 * T - 0.1, 0.05 * T) + np.random.default_rng(0).normal(0, 0.003, T.size)
>>> fit = fit_interaction(T, y, tg=0.4)
>>> abs(fit.interaction - 0.25) < 0.03, fit.interaction_p < 1e-6
(True, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from ..errors import InputError
from ..frames import Frame
from ..graphs import DEFINITIONS
from ..metrics import b_neighbor_metrics

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["METRICS", "InteractionFit", "MetricsVsTemperature", "fit_interaction", "metrics_vs_temperature"]

#: The three B-neighbor metrics, per particle (paper section III.2).
METRICS = ("components_per_particle", "bb_edges_per_particle", "isolated_a_per_particle")


@dataclass(frozen=True)
class InteractionFit:
    """OLS of equation 12 for one metric: coefficients and p-values of the four terms."""

    intercept: float
    slope: float
    jump: float
    interaction: float
    slope_p: float
    jump_p: float
    interaction_p: float
    r_squared: float
    n: int
    tg: float

    def predict(self, temperatures: Any) -> np.ndarray:
        t = np.asarray(temperatures, dtype=np.float64)
        above = (t > self.tg).astype(np.float64)
        return self.intercept + self.slope * t + self.jump * above + self.interaction * t * above

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def fit_interaction(temperatures: Any, values: Any, tg: float) -> InteractionFit:
    """Equation 12 fitted by statsmodels' OLS (formula ``y ~ T + above + T:above``)."""
    import pandas as pd  # noqa: PLC0415
    import statsmodels.formula.api as smf  # noqa: PLC0415

    t = np.asarray(temperatures, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if t.shape != y.shape or t.ndim != 1:
        raise InputError(f"temperatures and values must be 1-D of one length, got {t.shape} and {y.shape}")
    above = t > tg
    if np.unique(t[above]).size < 2 or np.unique(t[~above]).size < 2:
        raise InputError(f"equation 12 needs at least 2 temperatures on each side of Tg = {tg:.3g}; "
                         f"got {np.unique(t[~above]).size} below and {np.unique(t[above]).size} above")
    frame = pd.DataFrame({"y": y, "T": t, "above": above.astype(np.float64)})
    res = smf.ols("y ~ T + above + T:above", data=frame).fit()
    p, q = res.params, res.pvalues
    return InteractionFit(intercept=float(p["Intercept"]), slope=float(p["T"]), jump=float(p["above"]),
                          interaction=float(p["T:above"]), slope_p=float(q["T"]), jump_p=float(q["above"]),
                          interaction_p=float(q["T:above"]), r_squared=float(res.rsquared), n=int(t.size),
                          tg=float(tg))


@dataclass
class MetricsVsTemperature:
    """Per-frame metrics along cooling and equation 12's fit for each (definition, metric)."""

    temperatures: np.ndarray
    values: dict[str, dict[str, np.ndarray]]
    fits: dict[str, dict[str, InteractionFit]]
    tg: float

    def to_dict(self) -> dict[str, Any]:
        return {"tg": self.tg, "n_frames": int(self.temperatures.size),
                "fits": {d: {m: f.to_dict() for m, f in fm.items()} for d, fm in self.fits.items()}}

    def figure(self) -> "Figure":
        """One panel per metric, both definitions: per-temperature means and the fitted lines."""
        from matplotlib.figure import Figure  # noqa: PLC0415

        fig = Figure(figsize=(11.0, 3.4), layout="constrained")
        axes = fig.subplots(1, len(METRICS))
        ts = np.unique(self.temperatures)
        grid = np.linspace(ts.min(), ts.max(), 400)
        for ax, metric in zip(axes, METRICS):
            for c, definition in enumerate(self.values):
                v = self.values[definition][metric]
                mean = np.array([v[self.temperatures == x].mean() for x in ts])
                sd = np.array([v[self.temperatures == x].std() for x in ts])
                fit = self.fits[definition][metric]
                ax.errorbar(ts, mean, yerr=sd, fmt="o", ms=3, color=f"C{c}", label=f"{definition}")
                ax.plot(grid, fit.predict(grid), color=f"C{c}", lw=1,
                        label=f"fit, interaction p = {fit.interaction_p:.1e}")
            ax.axvline(self.tg, color="k", ls=":", lw=1, label=f"Tg = {self.tg:.3f}")
            ax.set_xlabel("temperature T")
            ax.set_ylabel(metric.replace("_", " "))
            ax.legend(fontsize="x-small")
        fig.suptitle("B-neighbor metrics along cooling with equation 12's fit (Figures 10, 17)")
        return fig


def metrics_vs_temperature(frames: Iterable[Frame], temperatures: Sequence[float], tg: float, k: int = 2,
                           definitions: Sequence[str] = DEFINITIONS, progress: bool = False) -> MetricsVsTemperature:
    """The three metrics of every frame for each graph definition, and equation 12 for each."""
    frames = list(frames)
    t = np.asarray(temperatures, dtype=np.float64)
    if t.shape != (len(frames),):
        raise InputError(f"one temperature per frame is needed: {len(frames)} frames, {t.size} temperatures")
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415

        frames = tqdm(frames, desc="B-neighbor metrics", unit="frame")
    rows = [{d: b_neighbor_metrics(f, k=k, definition=d).counts() for d in definitions} for f in frames]
    values = {d: {m: np.array([r[d][m] for r in rows]) for m in METRICS} for d in definitions}
    fits = {d: {m: fit_interaction(t, values[d][m], tg) for m in METRICS} for d in definitions}
    return MetricsVsTemperature(temperatures=t, values=values, fits=fits, tg=float(tg))
