"""Partial RDFs: ideal gas, brute force, and the liquid/glass difference on real data."""

import numpy as np
import pytest

from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.rdf import partial_rdfs
from reference import min_image_distances, random_mixture


def brute_force_rdf(pos, is_b, side, r_max, n_bins):
    dist = min_image_distances(pos, side, side)
    edges = np.linspace(0, r_max, n_bins + 1)
    shell = np.pi * (edges[1:] ** 2 - edges[:-1] ** 2)
    area = side * side
    sets = {"A": ~is_b, "B": is_b, "all": np.ones_like(is_b)}
    out = {}
    for label, (p, q) in {"AA": ("A", "A"), "AB": ("B", "A"), "BB": ("B", "B"), "all": ("all", "all")}.items():
        d = dist[np.ix_(sets[q], sets[p])]
        if p == q:
            d = d[~np.eye(len(d), dtype=bool)]
        counts = np.histogram(d.ravel(), bins=edges)[0]
        n_q, n_p = sets[q].sum(), sets[p].sum() - (1 if p == q else 0)
        out[label] = counts / (n_q * n_p / area * shell)
        out[label + "_unit"] = 2 / (n_q * n_p / area * shell)  # one pair (counted both ways) moved
    return out


def test_matches_a_brute_force_histogram():
    side = 20.0
    pos, names = random_mixture(480, side, 11)
    bins, g = partial_rdfs(Frame.from_arrays(pos, names, [side, side]), r_max=4.0, n_bins=40)
    ref = brute_force_rdf(pos, names == "B", side, 4.0, 40)
    np.testing.assert_allclose(bins, np.linspace(0.05, 3.95, 40), rtol=1e-6)
    for pair in ("AA", "AB", "BB", "all"):
        diff = np.abs(g[pair] - ref[pair])
        # freud measures in float32: a pair a hair from a bin edge may fall in the next bin.
        off = diff > 1e-5 * np.maximum(ref[pair], 1)
        assert off.sum() <= 2, pair
        assert np.all(diff[off] <= ref[pair + "_unit"][off] * 1.001), pair


def test_ideal_gas_tends_to_one():
    side = 40.0
    acc = {p: [] for p in ("AA", "AB", "BB", "all")}
    for seed in range(10):
        pos, names = random_mixture(1920, side, seed)
        _, g = partial_rdfs(Frame.from_arrays(pos, names, [side, side]), r_max=8.0, n_bins=20)
        for p in acc:
            acc[p].append(g[p])
    for p, values in acc.items():
        mean = np.mean(values, axis=0)[5:]  # small-r bins hold few pairs
        assert abs(mean.mean() - 1) < 0.01, p
        assert np.all(np.abs(mean - 1) < 0.08), p


def test_single_b_gives_zero_bb_and_no_crash():
    frame = Frame.from_arrays([[0, 0], [1, 0], [3, 3]], ["A", "B", "A"], [10, 10])
    _, g = partial_rdfs(frame, r_max=4.0, n_bins=8)
    assert np.all(g["BB"] == 0) and g["AB"].sum() > 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(r_max=6.0), "half the box"),
    (dict(r_max=-1.0), "r_min < r_max"),
    (dict(r_max="5"), "r_max must be a distance"),
    (dict(n_bins=0), "n_bins"),
    (dict(r_max=2.0, r_min=3.0), "r_min < r_max"),
])
def test_bad_ranges_are_refused(kwargs, match):
    frame = Frame.from_arrays([[0, 0], [1, 0], [3, 3]], ["A", "B", "A"], [10, 10])
    with pytest.raises(InputError, match=match):
        partial_rdfs(frame, **kwargs)


def test_a_tilted_box_is_limited_by_the_distance_between_its_sides():
    # Lx / sqrt(1 + xy^2) = 10 / 1.25 = 8 apart: freud refuses r_max >= 4 ("AABBQuery r_max is too large").
    frame = Frame.from_arrays([[0, 0], [1, 0], [3, 3]], ["A", "B", "A"], {"hoomd": [10, 10, 0, 0.75, 0, 0]})
    with pytest.raises(InputError, match=r"half the box's width \(4\) \(the tilt xy=0.75"):
        partial_rdfs(frame, r_max=4.5)
    partial_rdfs(frame, r_max=3.9, n_bins=8)
