"""TPE that is TPE, and a resumed search that equals an unbroken one trial for trial."""

import pytest
from hyperopt import hp

from mda_glassml.errors import InputError
from mda_glassml.training.search import default_startup, tpe_search

SPACE = {"x": hp.quniform("x", -5, 5, 0.5), "y": hp.uniform("y", 0, 1)}


def objective(p):
    return (p["x"] - 1.5) ** 2 + (p["y"] - 0.3) ** 2


def points(trials):
    return [(t["tid"], t["misc"]["vals"]["x"][0], t["misc"]["vals"]["y"][0], t["result"]["loss"])
            for t in trials.trials]


def test_resumed_search_equals_an_unbroken_one_trial_for_trial(tmp_path):
    unbroken = tpe_search(objective, SPACE, n_evals=8, seed=3)

    class Killed(Exception):
        pass

    calls = []

    def dies_after_four(p):
        calls.append(p)
        if len(calls) > 4:
            raise Killed
        return objective(p)

    file = tmp_path / "trials.pkl"
    with pytest.raises(Killed):
        tpe_search(dies_after_four, SPACE, n_evals=8, seed=3, trials_file=file)
    resumed = tpe_search(objective, SPACE, n_evals=8, seed=3, trials_file=file)
    assert points(resumed) == points(unbroken)          # the whole record, the same points
    assert len({(x, y) for _, x, y, _ in points(resumed)}) == 8
    # Trials of another search are refused, naming what differs.
    with pytest.raises(InputError, match="n_evals: 8 there, 9 now"):
        tpe_search(objective, SPACE, n_evals=9, seed=3, trials_file=file)
    with pytest.raises(InputError, match="search.data"):
        tpe_search(objective, SPACE, n_evals=8, seed=3, trials_file=file, fingerprint={"data": "other"})


def test_tpe_starts_suggesting_before_the_budget_ends(monkeypatch):
    from hyperopt import tpe

    used = []
    real = tpe.suggest

    def spy(*args, **kw):
        used.append(kw.get("n_startup_jobs"))
        return real(*args, **kw)

    monkeypatch.setattr(tpe, "suggest", spy)
    tpe_search(objective, SPACE, n_evals=15, seed=0)
    # hyperopt's default (20) would make all 15 evaluations random.
    assert set(used) == {default_startup(15)} and default_startup(15) == 5 < 15
    assert default_startup(2) == 1 and default_startup(100) == 5
    with pytest.raises(InputError, match="n_startup"):
        tpe_search(objective, SPACE, n_evals=3, seed=0, n_startup=0)
