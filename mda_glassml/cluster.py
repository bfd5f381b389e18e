"""Worker processes for campaigns, cross-validation and parallel analyses, started with errors a user can act on.

dask starts its worker processes by *spawning* fresh interpreters, which
import the user's ``__main__`` module again. A script that calls
:func:`~mda_glassml.simulation.campaign.run_campaign`, ``nested_cv`` with
workers, or an analysis' ``run(backend="dask")`` at its top level then starts
the whole work again inside every worker, and what dask reports is "Nanny
failed to start" or a broken process pool, with the cause blanked out. The
helpers here say what to do instead.
"""

from __future__ import annotations

import multiprocessing
import sys
from typing import Any

from .errors import InputError

__all__ = ["local_cluster", "refuse_in_a_starting_worker", "spawn_advice"]

_GUARD = ('put the code that starts the work under  if __name__ == "__main__":  (worker processes started fresh, as '
          "dask's are, import your script again)")


def spawn_advice() -> str:
    """What to change so that spawned workers can start: the main guard, or a script file instead of stdin."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or str(path).startswith("<"):
        return "run it from a script file: code read from stdin cannot be imported by the worker processes"
    return f"in {path}, {_GUARD}"


def refuse_in_a_starting_worker() -> None:
    """Raise :class:`~mda_glassml.errors.InputError` in a spawned worker that is still importing the user's script
    (the work would start again there, once per worker)."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise InputError(f"a worker process is importing the script that starts the work; {_GUARD}.")


def local_cluster(n_workers: int, **kwargs: Any) -> Any:
    """A ``dask.distributed.LocalCluster`` of ``n_workers`` processes, one thread each, dashboard on a free port.

    Raises :class:`~mda_glassml.errors.InputError` inside a worker that is
    still importing the user's script, and in the caller when the workers
    could not start, with what to do.
    """
    from dask.distributed import LocalCluster  # noqa: PLC0415

    refuse_in_a_starting_worker()
    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0", **kwargs}
    try:
        return LocalCluster(n_workers=n_workers, **options)
    except RuntimeError as err:
        raise InputError(f"dask could not start its {n_workers} worker process(es) ({err}); most often because the "
                         f"workers cannot import the caller's script: {spawn_advice()}.") from err
