"""hyperopt's TPE, resumable trial for trial.

Two things hyperopt's defaults get wrong for a budget of 15 evaluations:

- ``tpe.suggest`` draws random points until ``n_startup_jobs`` trials
  exist, 20 by default: 15 evaluations would all be random search. Here
  ``n_startup`` is set explicitly, by default ``max(1, min(5, n_evals // 3))``
  (5 random points of the paper's 15, then 10 TPE suggestions);
- ``fmin`` seeds each suggestion from one random stream started from
  ``rstate``; a resumed search starts that stream afresh and replays the
  first suggestions. Here each trial's suggestion is seeded from
  ``(seed, trial id)``, so a search resumed from its saved trials makes the
  same suggestions as an unbroken one.

The trials are saved (atomically) after every evaluation, with a fingerprint
of what made them (:mod:`mda_glassml.training.fingerprint`): resuming
trials of another search is refused.

Examples
--------
>>> from hyperopt import hp
>>> from mda_glassml.training.search import default_startup, tpe_search
>>> trials = tpe_search(lambda p: (p["x"] - 1) ** 2, {"x": hp.uniform("x", -3, 3)}, n_evals=8, seed=0)
>>> len(trials.trials), default_startup(15)
(8, 5)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from .fingerprint import check_fingerprint

__all__ = ["tpe_search", "default_startup"]


def default_startup(n_evals: int) -> int:
    """Random trials before TPE takes over: a third of the budget, at most 5, at least 1."""
    return max(1, min(5, int(n_evals) // 3))


def tpe_search(objective: Callable[[dict[str, Any]], Any], space: Any, n_evals: int, seed: int,
               trials_file: str | os.PathLike | None = None, fingerprint: dict[str, Any] | None = None,
               n_startup: int | None = None, progress: bool = False) -> Any:
    """Minimise ``objective`` over ``space`` with TPE for ``n_evals`` trials; returns hyperopt's ``Trials``.

    ``objective(params)`` returns a loss or hyperopt's result dict. With
    ``trials_file``, trials are read back from it (if it exists and its
    fingerprint equals ``fingerprint``) and written after every evaluation.
    """
    import pickle  # noqa: PLC0415
    from hyperopt import Trials, fmin, tpe  # noqa: PLC0415

    if int(n_evals) != n_evals or n_evals < 1:
        raise InputError(f"the number of evaluations must be a positive integer, got {n_evals!r}.")
    n_startup = default_startup(n_evals) if n_startup is None else int(n_startup)
    if n_startup < 1:
        raise InputError(f"n_startup must be at least 1, got {n_startup}.")
    mine = {"search": fingerprint or {}, "n_evals": int(n_evals), "n_startup": n_startup, "seed": int(seed)}
    path = Path(trials_file) if trials_file else None
    if path is not None and path.is_file():
        try:
            with open(path, "rb") as fh:
                trials = pickle.load(fh)
        except Exception as exc:
            raise InputError(f"cannot read the trials {path} ({exc}); delete it to start the search afresh.") from None
        check_fingerprint(getattr(trials, "attachments", {}).get("fingerprint"), mine, f"the trials {path}")
    else:
        trials = Trials()
        trials.attachments["fingerprint"] = mine

    def algo(new_ids, domain, trials, _stream_seed):
        # The suggestion of trial i is seeded by (seed, i) alone, not by fmin's stream (which
        # restarts on resume): a resumed search suggests what an unbroken one does.
        own = int(np.random.default_rng([int(seed), int(new_ids[0])]).integers(2**31 - 1))
        return tpe.suggest(new_ids, domain, trials, own, n_startup_jobs=n_startup)

    # One evaluation per fmin call, so that the trials are saved atomically after each.
    while len(trials.trials) < n_evals:
        done = len(trials.trials)
        fmin(objective, space, algo=algo, max_evals=done + 1, trials=trials,
             rstate=np.random.default_rng([int(seed), done]), show_progressbar=progress)
        if path is not None:
            tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
            with open(tmp, "wb") as fh:
                pickle.dump(trials, fh)
            os.replace(tmp, path)
    return trials
