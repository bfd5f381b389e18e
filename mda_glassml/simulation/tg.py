"""The glass transition temperature from the inherent-structure energy curve.

On cooling, the mean inherent-structure (IS) energy per particle falls with
temperature while the liquid stays in equilibrium and flattens once it falls
out of equilibrium. Tg is where two straight lines fitted to the two regimes
meet (paper section II.1: about 0.39 for the fast rate, 0.37 for the slow).

The fit is a continuous two-segment line ("hinge") in ``T``::

    E(T) = E_g + s_glass  (T - Tg)   for T <  Tg
    E(T) = E_g + s_liquid (T - Tg)   for T >= Tg

found by :func:`scipy.optimize.least_squares` over ``(E_g, s_glass, s_liquid,
Tg)``, started from the best breakpoint between two data temperatures (for a
fixed breakpoint the problem is linear). The uncertainty of Tg comes from a
bootstrap over trajectories (runs resampled with replacement, the mean curve
refitted), since records of one run are correlated and runs are independent.

Each regime needs at least :data:`MIN_PER_REGIME` (3) distinct temperatures:
a fit with fewer on one side, or with Tg on the edge of its search range (a
bound of the least-squares problem), is refused, since its Tg is set by the
records kept rather than by the data. The records a campaign keeps by
default (``datasets``: T = 1.99, 1.756, 0.957, 0.547, 0.44, 0.05) have one
temperature below a Tg near 0.39: simulate with ``--records tg`` (17 records
from T = 1.0 to 0.05, 9 of them below 0.5) for a Tg fit::

    mda-glassml simulate --out fast --n-trajectories 10 --records tg

    from mda_glassml.simulation.tg import campaign_is_energies, fit_tg
    temperatures, energies = campaign_is_energies("fast")
    fit = fit_tg(temperatures, energies)

A warning (:class:`TgWarning`) says when bootstrap resamples reach a bound:
the error bar is then too small.

Examples
--------
>>> import numpy as np
>>> from mda_glassml.simulation.tg import fit_tg
>>> T = np.linspace(0.05, 1.0, 20)
>>> E = np.where(T < 0.4, -3.87 + 0.01 * (T - 0.4), -3.87 + 0.08 * (T - 0.4))
>>> runs = E + np.random.default_rng(0).normal(0, 0.001, (4, T.size))
>>> fit = fit_tg(T, runs)
>>> abs(fit.tg - 0.4) < 0.03, fit.tg_err < 0.05
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GlassMLWarning, InputError, warn

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["TgFit", "TgWarning", "choose_t_max", "fit_tg", "hinge_fit", "campaign_is_energies", "MIN_PER_REGIME"]

#: Distinct temperatures each regime (glass, liquid) needs for its straight line.
MIN_PER_REGIME = 3

_KEEP = ("keep records on both sides of Tg: a campaign simulated with --records tg (17 records from T = 1.0 "
         "to 0.05) has 9 below T = 0.5; the datasets preset (the default) has only T = 0.05 below 0.44")


def _listed(temperatures: np.ndarray) -> str:
    """Temperatures for a message: all of a few, the ends of many."""
    shown = [f"{x:.3g}" for x in temperatures]
    return ", ".join(shown) if len(shown) <= 6 else ", ".join(shown[:3] + ["...", shown[-1]])


class TgWarning(GlassMLWarning):
    """The Tg fit is weaker than its numbers suggest (bootstrap resamples at a bound)."""


def _hinge(params: np.ndarray, t: np.ndarray) -> np.ndarray:
    e_g, s_glass, s_liquid, tg = params
    d = t - tg
    return e_g + np.where(d < 0, s_glass * d, s_liquid * d)


def hinge_fit(temperatures: Any, energies: Any) -> np.ndarray:
    """Least-squares two-regime fit of ``energies`` against ``temperatures``.

    Returns ``[E_g, s_glass, s_liquid, Tg]``. Needs at least 2 distinct
    temperatures on each side of the breakpoint (5 in all).
    """
    from scipy.optimize import least_squares  # noqa: PLC0415

    t = np.asarray(temperatures, dtype=np.float64)
    e = np.asarray(energies, dtype=np.float64)
    ts = np.unique(t)
    if ts.size < 5:
        raise InputError(f"a two-regime fit needs at least 5 distinct temperatures, got {ts.size}. To fit Tg, {_KEEP}.")
    # Start: the best breakpoint among the midpoints that leave >= 2 temperatures per side
    # (for a fixed breakpoint the fit is linear least squares).
    best = None
    for tg in 0.5 * (ts[1:-2] + ts[2:-1]):
        basis = np.column_stack([np.ones_like(t), np.minimum(t - tg, 0.0), np.maximum(t - tg, 0.0)])
        coef, *_ = np.linalg.lstsq(basis, e, rcond=None)
        sse = float(np.sum((basis @ coef - e) ** 2))
        if best is None or sse < best[0]:
            best = (sse, np.append(coef, tg))
    x0 = best[1]
    lo, hi = ts[1], ts[-2]
    x0[3] = np.clip(x0[3], lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
    res = least_squares(lambda p: _hinge(p, t) - e, x0,
                        bounds=([-np.inf, -np.inf, -np.inf, lo], [np.inf, np.inf, np.inf, hi]))
    return res.x


@dataclass(frozen=True)
class TgFit:
    """A two-regime fit of the mean IS energy curve, with its bootstrap.

    Attributes
    ----------
    tg, tg_err
        The intersection of the two lines and its bootstrap standard deviation
        (NaN with a single trajectory).
    energy_at_tg, slope_glass, slope_liquid
        The other fitted parameters (energy per particle, per unit T).
    temperatures, mean_energy, sem_energy
        The fitted points: mean over trajectories and its standard error.
    bootstrap_tg
        Tg of every bootstrap resample.
    n_trajectories
        Number of independent runs behind the mean.
    t_max
        The hottest record kept (None: all), as given or as ``t_max="auto"`` chose it.
    """

    tg: float
    tg_err: float
    energy_at_tg: float
    slope_glass: float
    slope_liquid: float
    temperatures: np.ndarray
    mean_energy: np.ndarray
    sem_energy: np.ndarray
    bootstrap_tg: np.ndarray
    n_trajectories: int
    t_max: float | None = None

    def predict(self, temperatures: Any) -> np.ndarray:
        """The fitted two-line curve at ``temperatures``."""
        params = np.array([self.energy_at_tg, self.slope_glass, self.slope_liquid, self.tg])
        return _hinge(params, np.asarray(temperatures, dtype=np.float64))

    def figure(self, title: str | None = None) -> "Figure":
        """A matplotlib Figure (no pyplot, so no global state): data, both lines, Tg band."""
        from matplotlib.figure import Figure  # noqa: PLC0415

        fig = Figure(figsize=(5.0, 3.6), layout="constrained")
        ax = fig.add_subplot()
        ax.errorbar(self.temperatures, self.mean_energy, yerr=self.sem_energy, fmt="o", ms=4, color="k",
                    label=f"mean IS energy ({self.n_trajectories} runs)")
        t = np.linspace(self.temperatures.min(), self.temperatures.max(), 200)
        ax.plot(t, self.predict(t), color="C3", label="two-regime fit")
        for s, name in ((self.slope_glass, "glass"), (self.slope_liquid, "liquid")):
            ax.plot(t, self.energy_at_tg + s * (t - self.tg), color="C3", lw=0.7, ls=":")
        if np.isfinite(self.tg_err):
            ax.axvspan(self.tg - self.tg_err, self.tg + self.tg_err, color="C0", alpha=0.2)
        label = f"Tg = {self.tg:.3f}" + (f" ± {self.tg_err:.3f}" if np.isfinite(self.tg_err) else "")
        ax.axvline(self.tg, color="C0", label=label)
        lo, hi = self.mean_energy.min(), self.mean_energy.max()
        ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        ax.set_xlabel("temperature T")
        ax.set_ylabel("inherent-structure energy per particle")
        ax.set_title(title or "Tg from the inherent-structure energy")
        ax.legend(fontsize="small")
        return fig


def fit_tg(temperatures: Any, energies: Any, t_max: float | None = None, n_bootstrap: int = 1000,
           seed: int = 0) -> TgFit:
    """Tg from IS energies of one or more trajectories recorded at the same temperatures.

    Parameters
    ----------
    temperatures : array_like, shape (n_T,)
        Set-point temperature of each record.
    energies : array_like, shape (n_trajectories, n_T) or (n_T,)
        IS energy per particle of each record of each trajectory.
    t_max : float or "auto", optional
        Use only records with ``T <= t_max`` (the hot liquid's curve bends
        again above T of about 1, which is not part of the two regimes).
        ``"auto"`` chooses it with :func:`choose_t_max`: the widest range
        whose liquid branch is straight.
    n_bootstrap : int
        Resamples of the trajectories for the uncertainty of Tg.
    seed : int
        Seed of the bootstrap.
    """
    t = np.asarray(temperatures, dtype=np.float64)
    e = np.atleast_2d(np.asarray(energies, dtype=np.float64))
    if t.ndim != 1 or e.shape[1] != t.size:
        raise InputError(f"energies must have shape (n_trajectories, {t.size}), got {np.shape(energies)}")
    if not (np.isfinite(t).all() and np.isfinite(e).all()):
        raise InputError("temperatures and energies must be finite")
    if isinstance(t_max, str):
        if t_max != "auto":
            raise InputError(f"t_max must be a temperature or 'auto', got {t_max!r}")
        t_max = choose_t_max(t, e)
    keep = t <= t_max if t_max is not None else np.ones_like(t, dtype=bool)
    t, e = t[keep], e[:, keep]
    order = np.argsort(t)
    t, e = t[order], e[:, order]
    n = e.shape[0]
    params = hinge_fit(t, e.mean(axis=0))
    ts = np.unique(t)
    lo, hi = ts[1], ts[-2]
    below, above = ts[ts < params[3]], ts[ts >= params[3]]
    at_bound = min(params[3] - lo, hi - params[3]) <= 1e-6 * (hi - lo)
    if at_bound or below.size < MIN_PER_REGIME or above.size < MIN_PER_REGIME:
        if above.size < MIN_PER_REGIME <= below.size:
            # records below Tg are plenty: the fit's Tg sits at the hot end of what it was given
            advice = (f"Tg this close to the hottest temperature fitted ({ts[-1]:.3g}"
                      + (f"; records above t_max = {t_max:.3g} are left out" if t_max is not None else "")
                      + ") means these runs fall out of equilibrium that hot or hotter (a very fast cooling "
                        "or a very small system): cool more slowly or use more particles, or give Tg yourself "
                        "(build-datasets --tg)")
        else:
            advice = f"To fit Tg, {_KEEP}"
        raise InputError(
            f"the two-regime fit put Tg at {params[3]:.4g}"
            + (" — the edge of its search range, so the value is set by the records kept, not by the data"
               if at_bound else "")
            + f", with {below.size} temperature(s) below it ({_listed(below)}) and "
            f"{above.size} above ({_listed(above)}); each straight line needs at least {MIN_PER_REGIME}. "
            f"{advice}."
        )
    boot = np.full(n_bootstrap if n > 1 else 0, np.nan)
    rng = np.random.default_rng(seed)
    for b in range(boot.size):
        boot[b] = hinge_fit(t, e[rng.integers(0, n, n)].mean(axis=0))[3]
    stuck = np.mean(np.minimum(boot - lo, hi - boot) <= 1e-6 * (hi - lo)) if boot.size else 0.0
    if stuck > 0.05:
        warn(f"{stuck:.0%} of the bootstrap fits put Tg at the edge of its range ({lo:.3g} or {hi:.3g}): "
             f"these {n} trajectories do not pin Tg, and the error bar {np.std(boot, ddof=1):.3g} "
             "understates how uncertain it is. Add trajectories (their mean IS energy is what the fit "
             f"sees), bigger systems (less noise per run), or, if records are missing near Tg, {_KEEP}.",
             TgWarning)
    sem = e.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(t.size)
    return TgFit(
        tg=float(params[3]),
        tg_err=float(np.std(boot, ddof=1)) if boot.size > 1 else float("nan"),
        energy_at_tg=float(params[0]),
        slope_glass=float(params[1]),
        slope_liquid=float(params[2]),
        temperatures=t,
        mean_energy=e.mean(axis=0),
        sem_energy=sem,
        bootstrap_tg=boot,
        n_trajectories=n,
        t_max=None if t_max is None else float(t_max),
    )


def _branch_p(x: np.ndarray, y: np.ndarray) -> float:
    """p-value of curvature in one branch (F-test of a quadratic against a straight line)."""
    from scipy.stats import f as f_dist  # noqa: PLC0415

    if np.unique(x).size < 4:
        return 1.0  # too few points to see a bend; MIN_PER_REGIME still applies in fit_tg
    sse = [float(np.sum((np.polyval(np.polyfit(x, y, deg), x) - y) ** 2)) for deg in (1, 2)]
    dof = x.size - 3
    if sse[1] <= 0:
        return 0.0 if sse[0] > 0 else 1.0
    return float(f_dist.sf((sse[0] - sse[1]) / (sse[1] / dof), 1, dof))


def choose_t_max(temperatures: Any, energies: Any, alpha: float = 0.01) -> float:
    """The widest fit range ``T <= t_max`` whose liquid branch is a straight line.

    Over a whole cooling curve (from T = 2) the hot liquid's IS energy bends,
    and a two-line fit puts its breakpoint in that bend (Tg about 1.2 instead
    of 0.4). Starting from all records and dropping the hottest one at a
    time, the first range is kept whose records above the fitted Tg show no
    curvature (F-test of a quadratic against a line on the mean curve of the
    runs, p >= ``alpha``) and whose fit is not refused (Tg off the edge of
    the range, at least 3 temperatures per regime). Needs at least 2 runs.

    Raises
    ------
    InputError
        No range passes (records too few or too sparse on either side).

    Examples
    --------
    >>> import numpy as np
    >>> T = np.linspace(0.05, 2.0, 40)
    >>> E = np.where(T < 0.4, -3.87 + 0.01 * (T - 0.4), -3.87 + 0.08 * (T - 0.4))
    >>> E = E + np.where(T > 1.0, 0.12 * (T - 1.0) ** 2, 0.0)     # the hot liquid's bend
    >>> runs = E + np.random.default_rng(0).normal(0, 0.001, (4, T.size))
    >>> t_max = choose_t_max(T, runs)
    >>> 0.9 < t_max < 1.2, abs(fit_tg(T, runs, t_max="auto").tg - 0.4) < 0.03
    (True, True)
    """
    t = np.asarray(temperatures, dtype=np.float64)
    e = np.atleast_2d(np.asarray(energies, dtype=np.float64))
    if t.ndim != 1 or e.shape[1] != t.size:
        raise InputError(f"energies must have shape (n_trajectories, {t.size}), got {np.shape(energies)}")
    if e.shape[0] < 2:
        # One run's hot records scatter by about 0.01: too noisy to see the bends (measured on the bundled run).
        raise InputError("t_max='auto' needs the mean of at least 2 trajectories (one run's hot records scatter "
                         "too much to tell a bend); give t_max yourself (records at T <= 1.0 hold the two regimes "
                         "of the KA mixture)")
    mean = e.mean(axis=0)
    tried = []
    for t_max in np.unique(t)[::-1]:
        keep = t <= t_max
        if np.unique(t[keep]).size < 2 * MIN_PER_REGIME:
            break
        params = hinge_fit(t[keep], mean[keep])
        ts = np.unique(t[keep])
        below, above = (ts < params[3]).sum(), (ts >= params[3]).sum()
        at_bound = min(params[3] - ts[1], ts[-2] - params[3]) <= 1e-6 * (ts[-2] - ts[1])
        tk, ek = t[keep], mean[keep]
        # Only the liquid branch is tested: below Tg the IS energy of a real glass flattens gradually
        # (measured: curvature p = 3e-4 below Tg at T <= 1 in a 12-run fast campaign), not a bend of the fit.
        p = _branch_p(tk[tk >= params[3]], ek[tk >= params[3]])
        tried.append(f"t_max {t_max:.3g}: Tg {params[3]:.3g}, curvature p = {p:.2g}")
        if p >= alpha and not at_bound and below >= MIN_PER_REGIME and above >= MIN_PER_REGIME:
            return float(t_max)
    raise InputError("no fit range has a straight liquid branch above Tg (" + "; ".join(tried[:6])
                     + f"). Give t_max yourself, or {_KEEP}.")


def campaign_is_energies(folder: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(temperatures, energies)`` of a campaign's complete runs, ready for :func:`fit_tg`.

    Reads the IS energies logged in each ``traj_*_is.gsd`` (only runs that
    :meth:`~mda_glassml.simulation.campaign.Campaign.problem` calls complete).
    """
    import gsd.hoomd  # noqa: PLC0415

    from .campaign import Campaign  # noqa: PLC0415

    campaign = Campaign.open(folder)
    temps = campaign.protocol.record_temperatures()[list(campaign.records)]
    rows = []
    for i in campaign.complete_runs():
        with gsd.hoomd.open(campaign.paths(i)[1], "r") as traj:
            rows.append([float(frame.log["mda_glassml/is_energy"][0]) for frame in traj])
    if not rows:
        raise InputError(f"{folder} holds no complete run")
    return temps, np.asarray(rows)

