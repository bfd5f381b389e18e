"""The KA model and cooling protocol as data (no engine needed)."""

import json

import numpy as np
import pytest
from scipy.spatial import cKDTree

from mda_glassml.simulation.protocol import (
    FAST_STEPS,
    SLOW_STEPS,
    CoolingProtocol,
    FireSettings,
    KAModel,
    lattice_start,
)


def test_paper_defaults():
    p = CoolingProtocol()
    assert p.n_particles == 4320
    assert p.box_length == pytest.approx(60.0)
    assert (p.n_a, p.n_b) == (2808, 1512)
    assert p.dt == 0.005 and p.tdamp == 0.5
    assert (p.t_start, p.t_end) == (2.0, 0.05)
    assert p.n_steps == FAST_STEPS == 200_000
    assert CoolingProtocol.slow().n_steps == SLOW_STEPS == 20_000_000
    assert CoolingProtocol.fast(seed=3).seed == 3


def test_record_temperatures_match_paper_formula():
    p = CoolingProtocol()
    k = np.arange(201)
    np.testing.assert_allclose(p.record_temperatures(), 2.0 - 1.95 * k / 200, rtol=0, atol=1e-12)
    # The paper's dataset temperatures (records 1, 25, 107, 149, 160, 200).
    np.testing.assert_allclose(
        p.record_temperatures()[[1, 25, 107, 149, 160, 200]],
        [1.99025, 1.75625, 0.95675, 0.54725, 0.44, 0.05],
        atol=1e-12,
    )
    np.testing.assert_array_equal(p.record_steps(), k * 1000)
    assert CoolingProtocol.slow().record_steps()[1] == 100_000  # appendix A: every 1e5 steps
    for step, t in zip(p.record_steps(), p.record_temperatures()):
        assert p.temperature_at_step(int(step)) == pytest.approx(t)


def test_custom_record_formula():
    p = CoolingProtocol(n_particles=200, n_steps=5000, n_records=5, t_start=1.0, t_end=0.5)
    np.testing.assert_allclose(p.record_temperatures(), [1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    np.testing.assert_array_equal(p.record_steps(), [0, 1000, 2000, 3000, 4000, 5000])


@pytest.mark.parametrize("n", [2, 3])
def test_exact_type_counts_of_tiny_systems(n):
    m = KAModel()
    assert m.n_b(n) == round(0.35 * n) and m.n_a(n) + m.n_b(n) == n


@pytest.mark.parametrize("n", [30, 200, 1000, 4320, 4321])
def test_exact_type_counts(n):
    p = CoolingProtocol(n_particles=n)
    assert p.n_b == round(0.35 * n)
    assert p.n_a + p.n_b == n
    _, typeid = lattice_start(p)
    assert typeid.shape == (n,)
    assert np.count_nonzero(typeid == 0) == p.n_a
    assert np.count_nonzero(typeid == 1) == p.n_b


@pytest.mark.parametrize("n", [200, 1000, 4320])
def test_lattice_start_inside_box_without_overlaps(n):
    p = CoolingProtocol(n_particles=n)
    pos, _ = lattice_start(p)
    half = p.box_length / 2
    assert pos.shape == (n, 2)
    assert np.all(pos >= -half) and np.all(pos < half)
    # Nearest periodic neighbour of every particle is farther than 0.8.
    tree = cKDTree(pos + half, boxsize=p.box_length)
    d, _ = tree.query(pos + half, k=2)
    assert d[:, 1].min() > 0.8


def test_lattice_types_depend_on_seed_and_are_reproducible():
    a = lattice_start(CoolingProtocol(seed=1))[1]
    b = lattice_start(CoolingProtocol(seed=1))[1]
    c = lattice_start(CoolingProtocol(seed=2))[1]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_model_pairs_and_shift():
    m = KAModel()
    assert m.pair("A", "A") == (1.0, 1.0, 2.5)
    assert m.pair("B", "A") == m.pair("A", "B") == pytest.approx((1.5, 0.8, 2.0))
    assert m.pair("B", "B") == pytest.approx((0.5, 0.88, 2.2))
    assert m.max_cutoff() == 2.5
    # V(2.5 sigma) = 4 eps (2.5^-12 - 2.5^-6), negative.
    assert m.shift_constant("A", "B") == pytest.approx(1.5 * 4 * (2.5**-12 - 2.5**-6))
    with pytest.raises(ValueError, match="unknown type pair"):
        m.pair("A", "C")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_particles": 1}, "at least 2"),
        ({"n_particles": 2.5}, "integer"),
        ({"n_particles": 29}, "box of side 4.92, narrower than twice the largest pair cutoff .5.; use at least 30"),
        ({"n_particles": 100, "density": 5.0}, "use at least 125 particles"),
        ({"density": 0.0}, "density must be positive"),
        ({"density": -1.2}, "density must be positive"),
        ({"t_end": 0.0}, "temperatures must be positive"),
        ({"t_start": -1.0}, "temperatures must be positive"),
        ({"t_start": 0.5, "t_end": 1.0}, "t_end <= t_start"),
        ({"n_steps": -5}, "positive number of steps"),
        ({"n_steps": 0}, "positive number of steps"),
        ({"n_steps": 1001, "n_records": 200}, "not divisible by n_records"),
        ({"n_records": 0}, "n_records must be at least 1"),
        ({"dt": 0.0}, "dt must be positive"),
        ({"tdamp": 0.0}, "tdamp"),
        ({"seed": 0}, "seed must be in"),
        ({"seed": 70_000}, "seed must be in"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CoolingProtocol(**kwargs)


def test_bad_model_and_fire_settings_raise():
    with pytest.raises(ValueError, match="fraction_a"):
        KAModel(fraction_a=1.0)
    with pytest.raises(ValueError, match="positive"):
        KAModel(lj_ab=(1.5, -0.8))
    with pytest.raises(ValueError, match="etol > 0 or ftol > 0"):
        FireSettings(etol=0.0, ftol=0.0)


def test_dict_round_trip_through_json():
    p = CoolingProtocol(n_particles=200, n_steps=4000, n_records=20, seed=42, t_end=0.1,
                        model=KAModel(lj_ab=(1.4, 0.8)), is_fire=FireSettings(ftol=1e-8))
    d = json.loads(json.dumps(p.to_dict()))
    q = CoolingProtocol.from_dict(d)
    assert q == p
    assert CoolingProtocol.from_dict(CoolingProtocol().to_dict()) == CoolingProtocol()


def test_from_dict_rejects_unknown_keys():
    d = CoolingProtocol().to_dict()
    d["n_stpes"] = 10
    with pytest.raises(ValueError, match="unknown CoolingProtocol fields"):
        CoolingProtocol.from_dict(d)


def test_record_zero_after_a_melt_is_tagged_with_the_melt_temperature():
    hold = CoolingProtocol.hold(0.547, 300_000, n_records=3)
    assert hold.record_temperatures().tolist() == [2.0, 0.547, 0.547, 0.547]
    assert hold.temperature_at_step(hold.record_steps()[0] - 1) == 2.0
    # the paper's cooling has no melt: record 0 is its first set point, T = 2 either way
    assert CoolingProtocol.fast().record_temperatures()[0] == 2.0
