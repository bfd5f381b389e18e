"""Tg from two linear regimes of the inherent-structure energy curve."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from mda_glassml.errors import InputError
from mda_glassml.simulation.tg import fit_tg, hinge_fit

T = np.linspace(0.05, 1.0, 18)


def curve(tg=0.39, s_glass=0.01, s_liquid=0.09, e_g=-3.86):
    return np.where(T < tg, e_g + s_glass * (T - tg), e_g + s_liquid * (T - tg))


@pytest.mark.parametrize("tg", [0.3, 0.39, 0.55])
def test_exact_hinge_recovered(tg):
    e_g, s_glass, s_liquid, fitted = hinge_fit(T, curve(tg))
    assert fitted == pytest.approx(tg, abs=1e-6)
    assert (e_g, s_glass, s_liquid) == pytest.approx((-3.86, 0.01, 0.09), abs=1e-6)


def test_bootstrap_uncertainty_shrinks_with_more_runs():
    rng = np.random.default_rng(1)
    few = fit_tg(T, curve() + rng.normal(0, 0.003, (3, T.size)), n_bootstrap=300)
    many = fit_tg(T, curve() + rng.normal(0, 0.003, (30, T.size)), n_bootstrap=300)
    assert abs(many.tg - 0.39) < 3 * many.tg_err + 0.01
    assert many.tg_err < few.tg_err
    assert few.bootstrap_tg.shape == (300,)
    np.testing.assert_allclose(many.predict([many.tg]), [many.energy_at_tg])


def test_single_trajectory_has_no_error_bar_and_order_does_not_matter():
    fit = fit_tg(T[::-1], curve()[::-1])
    assert np.isnan(fit.tg_err) and fit.n_trajectories == 1
    assert fit.tg == pytest.approx(0.39, abs=1e-6)
    assert np.all(np.diff(fit.temperatures) > 0)


def test_t_max_drops_hot_records():
    fit = fit_tg(T, curve(), t_max=0.8)
    assert fit.temperatures.max() <= 0.8


def test_figure_without_pyplot():
    fig = fit_tg(T, curve() + np.random.default_rng(0).normal(0, 0.002, (4, T.size)), n_bootstrap=50).figure()
    assert isinstance(fig, Figure) and fig.canvas.manager is None  # not registered with pyplot
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(label.startswith("Tg = ") for label in labels)


def test_bad_input():
    with pytest.raises(InputError, match="at least 5"):
        hinge_fit([0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4])
    with pytest.raises(InputError, match="shape"):
        fit_tg(T, np.zeros((2, T.size + 1)))
    with pytest.raises(InputError, match="finite"):
        fit_tg(T, np.full(T.size, np.nan))


def _campaign_curve(records, tg=0.39, runs=6, seed=0):
    from mda_glassml.simulation.campaign import RECORD_PRESETS
    from mda_glassml.simulation.protocol import CoolingProtocol

    temps = CoolingProtocol().record_temperatures()
    t = temps if records == "all" else temps[list(RECORD_PRESETS[records])]
    e = np.where(t < tg, -3.87 + 0.02 * (t - tg), -3.87 + 0.09 * (t - tg))
    return t, e + np.random.default_rng(seed).normal(0, 0.0005, (runs, t.size))


def test_default_dataset_records_are_refused_with_what_to_keep():
    # The case: with T = 1.99, 1.756, 0.957, 0.547, 0.44, 0.05 the fit returned its bound 0.44 +- 0.
    t, e = _campaign_curve("datasets")
    with pytest.raises(InputError, match="--records tg"):
        fit_tg(t, e, n_bootstrap=20)


def test_a_tg_at_the_hot_end_says_the_cooling_is_too_fast_not_to_keep_records():
    # Every record kept (201 from T = 2), yet a 120-particle run cooled in 4000 steps bends at T = 0.98:
    # "keep records on both sides" would be wrong advice, and 96 temperatures made a paragraph.
    t, e = _campaign_curve("all", tg=0.98)
    with pytest.raises(InputError) as err:
        fit_tg(t, e, t_max=1.0, n_bootstrap=20)  # build-datasets' t_max
    text = str(err.value)
    assert "t_max = 1 are left out" in text and "cool more slowly" in text and "--tg" in text
    assert "--records tg" not in text and "..." in text and len(text) < 700


def test_the_documented_campaign_records_give_tg():
    # The module's example: a campaign with --records tg, Tg 0.39.
    import warnings

    t, e = _campaign_curve("tg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_tg(t, e, n_bootstrap=100)
    assert abs(fit.tg - 0.39) < 0.02 and 0 < fit.tg_err < 0.02


def test_a_tg_the_runs_do_not_pin_is_flagged_with_what_to_do():
    from mda_glassml.simulation.tg import TgWarning

    t = np.linspace(0.05, 1.0, 12)
    rng = np.random.default_rng(0)
    noisy = -3.8 + 0.1 * t + rng.normal(0, 0.02, (3, t.size))  # nearly straight, noisy: no clear hinge
    with pytest.warns(TgWarning, match=r"these 3 trajectories do not pin Tg.*understates.*Add trajectories"):
        fit_tg(t, noisy, n_bootstrap=200)
