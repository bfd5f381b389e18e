"""How far to trust P(glass): reliability, Brier score, expected calibration error, temperature scaling.

A classifier's AUC says how well it ranks; whether ``P(glass) = 0.8`` means
"glass four times in five" is calibration. :func:`calibration` bins held-out
probabilities (scikit-learn's :func:`~sklearn.calibration.calibration_curve`,
equal-width bins) and reports the Brier score
(:func:`~sklearn.metrics.brier_score_loss`) and the expected calibration
error, ECE = Σ_b (n_b / n) · abs(fraction of glasses in b − mean P in b).
:func:`fit_temperature` fits the one-parameter temperature scaling of Guo
et al. (2017), ``P = sigmoid(logit / T)``, by maximum likelihood on
validation data (never on a test set): it changes no ranking, hence no AUC.
:func:`fit_platt` adds a bias, ``P = sigmoid(logit / T + b)`` (Platt
scaling, scikit-learn's logistic regression on the logit): it moves where
P(glass) = 0.5 falls, which a model applied to inputs larger than it trained
on (whole frames for a window-trained D-MPNN) needs.

Examples
--------
>>> import numpy as np
>>> from mda_glassml.training.calibration import calibration, fit_temperature
>>> rng = np.random.default_rng(0)
>>> z = rng.normal(0, 2, 4000)                        # true logits
>>> y = (rng.random(4000) < 1 / (1 + np.exp(-z))).astype(int)
>>> round(calibration(y, 1 / (1 + np.exp(-z))).ece, 2) <= 0.03   # calibrated
True
>>> t = fit_temperature(y, 3 * z)                      # an overconfident model: logits 3x too large
>>> round(t.temperature, 1)
3.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["Calibration", "PlattFit", "TemperatureFit", "calibration", "fit_platt", "fit_temperature", "sigmoid"]

#: Temperatures searched (a validation set a model separates perfectly drives T to the lower bound).
T_BOUNDS = (0.1, 10.0)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def _check(labels: Any, values: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels)
    v = np.asarray(values, dtype=np.float64)
    if y.ndim != 1 or y.shape != v.shape or y.size == 0:
        raise InputError(f"labels and {what} must be 1D arrays of the same, non-zero length; got shapes "
                         f"{y.shape} and {v.shape}.")
    if not np.isin(y, (0, 1)).all():
        raise InputError("labels must be 0 (liquid) or 1 (glass).")
    if not np.isfinite(v).all():
        raise InputError(f"{what} must be finite.")
    return y.astype(int), v


@dataclass
class Calibration:
    """Reliability of probabilities on one labelled set (see :func:`calibration`)."""

    n: int
    n_bins: int
    brier: float
    ece: float
    #: Per non-empty bin: mean predicted P(glass), observed fraction of glasses, count.
    mean_predicted: list[float] = field(default_factory=list)
    fraction_glass: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def figure(self, title: str = "Reliability diagram") -> "Figure":
        """Observed fraction of glasses against mean P(glass) per bin; bar widths follow the counts."""
        from matplotlib.figure import Figure  # noqa: PLC0415

        fig = Figure(figsize=(4.2, 4.0), layout="constrained")
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="perfectly calibrated")
        size = 10 + 200 * np.asarray(self.counts) / max(self.n, 1)
        ax.scatter(self.mean_predicted, self.fraction_glass, s=size, color="C0", zorder=3, label="bins (area ~ count)")
        ax.plot(self.mean_predicted, self.fraction_glass, color="C0", lw=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean P(glass) in bin")
        ax.set_ylabel("fraction of glasses in bin")
        ax.set_title(f"{title}\nBrier {self.brier:.3f}, ECE {self.ece:.3f} (n = {self.n})", fontsize="small")
        ax.legend(fontsize="x-small", loc="upper left")
        return fig


def calibration(labels: Any, probabilities: Any, n_bins: int = 10) -> Calibration:
    """Brier score, expected calibration error and the reliability curve of ``probabilities``."""
    from sklearn.calibration import calibration_curve  # noqa: PLC0415
    from sklearn.metrics import brier_score_loss  # noqa: PLC0415

    y, p = _check(labels, probabilities, "probabilities")
    if ((p < 0) | (p > 1)).any():
        raise InputError("probabilities must lie in [0, 1].")
    if int(n_bins) != n_bins or n_bins < 1:
        raise InputError(f"n_bins must be a positive integer, got {n_bins!r}.")
    frac, mean = calibration_curve(y, p, n_bins=int(n_bins), strategy="uniform")
    # The counts of the same bins (calibration_curve's own rule: edges searched in the inner bin edges).
    edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=int(n_bins))
    counts = counts[counts > 0]
    ece = float(np.sum(counts / y.size * np.abs(frac - mean)))
    return Calibration(int(y.size), int(n_bins), float(brier_score_loss(y, p)), ece, mean.tolist(), frac.tolist(),
                       counts.astype(int).tolist())


@dataclass
class TemperatureFit:
    """The fitted temperature and the validation log-loss before and after."""

    temperature: float
    log_loss_before: float
    log_loss_after: float
    n: int
    at_bound: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _log_loss(y: np.ndarray, z: np.ndarray) -> float:
    # Binary cross-entropy from logits, stably: log(1 + exp(-z)) for glasses, log(1 + exp(z)) for liquids.
    return float(np.mean(np.logaddexp(0.0, np.where(y == 1, -z, z))))


def fit_temperature(labels: Any, logits: Any) -> TemperatureFit:
    """The temperature T minimising the log-loss of ``sigmoid(logits / T)`` (scipy, bounded in log T).

    Fit it on validation data; apply it to anything else. ``at_bound`` says
    the optimum lies at an end of :data:`T_BOUNDS` (e.g. a validation set the
    model separates perfectly, whose log-loss falls as T -> 0): then the
    bound is kept, and more validation data would be better.
    """
    from scipy.optimize import minimize_scalar  # noqa: PLC0415

    y, z = _check(labels, logits, "logits")
    if len(np.unique(y)) < 2:
        raise InputError("temperature scaling needs both classes in the validation data.")
    lo, hi = np.log(T_BOUNDS)
    res = minimize_scalar(lambda s: _log_loss(y, z / np.exp(s)), bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-6})
    s = float(res.x)
    at_bound = bool(min(s - lo, hi - s) < 1e-3)
    return TemperatureFit(float(np.exp(s)), _log_loss(y, z), _log_loss(y, z / np.exp(s)), int(y.size), at_bound)


@dataclass
class PlattFit:
    """Platt scaling ``P = sigmoid(logit / temperature + bias)`` and the validation log-loss before and after.

    ``separated``: every glass's logit lies above every liquid's. The
    likelihood then has no maximum (steeper is always better), so the fit
    is where the optimiser stopped: P(glass) = 0.5 falls inside the gap
    between the classes, and the gap (``gap``: the highest liquid and the
    lowest glass logit) is all the data say about where.
    """

    temperature: float
    bias: float
    log_loss_before: float
    log_loss_after: float
    n: int
    separated: bool = False
    gap: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def fit_platt(labels: Any, logits: Any) -> PlattFit:
    """Platt scaling fitted by maximum likelihood (scikit-learn, unpenalised) on validation logits.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> z = rng.normal(0, 2, 4000)
    >>> y = (rng.random(4000) < 1 / (1 + np.exp(-z))).astype(int)
    >>> fit = fit_platt(y, 2 * z + 3)                    # too confident and shifted towards glass
    >>> abs(fit.temperature - 2) < 0.1, abs(fit.bias + 1.5) < 0.15
    (True, True)
    """
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    y, z = _check(labels, logits, "logits")
    if len(np.unique(y)) < 2:
        raise InputError("Platt scaling needs both classes in the validation data.")
    scale, shift = float(z.std()), float(z.mean())
    if not scale > 0:
        raise InputError("Platt scaling found one logit for every validation configuration: the model ranks the "
                         "classes not at all there, so no calibration can help; retrain it.")
    # Fitted on standardised logits: lbfgs stops at a slope of ~0 on logits of size 1e-4 (measured).
    lr = LogisticRegression(C=np.inf, max_iter=1000).fit(((z - shift) / scale).reshape(-1, 1), y)  # C = inf: no penalty
    a = float(lr.coef_[0, 0]) / scale
    b = float(lr.intercept_[0]) - a * shift
    if not a > 0:
        raise InputError(f"Platt scaling found a slope {a:.3g} <= 0 on the validation data: the model ranks the "
                         "classes backwards (or not at all) there, so no calibration can help; retrain it.")
    liquid_max, glass_min = float(z[y == 0].max()), float(z[y == 1].min())
    separated = liquid_max < glass_min
    return PlattFit(1.0 / a, b, _log_loss(y, z), _log_loss(y, a * z + b), int(y.size), separated,
                    (liquid_max, glass_min) if separated else None)
