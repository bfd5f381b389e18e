"""Local dask clusters for the campaigns and the cross-validation, started with an error a user can act on.

dask starts its worker processes by *spawning* fresh interpreters, which
import the user's ``__main__`` module again. A script that calls
:func:`~mda_glassml.simulation.campaign.run_campaign` (or ``nested_cv`` with
workers) at its top level then starts a cluster again inside every worker,
and dask's own report is "Nanny failed to start", a page of tracebacks with
the cause blanked out. :func:`local_cluster` says what to do instead.
"""

from __future__ import annotations

import multiprocessing
import sys
from typing import Any

from .errors import InputError

__all__ = ["local_cluster"]

_GUARD = ('put the code that starts the work under  if __name__ == "__main__":  (dask starts its workers by spawning '
          "fresh Python processes, which import your script again)")


def _advice() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or str(path).startswith("<"):
        return "run it from a script file: code read from stdin cannot be imported by the worker processes"
    return f"in {path}, {_GUARD}"


def local_cluster(n_workers: int, **kwargs: Any) -> Any:
    """A ``dask.distributed.LocalCluster`` of ``n_workers`` processes, one thread each, dashboard on a free port.

    Raises :class:`~mda_glassml.errors.InputError` inside a worker that is
    still importing the user's script (the cluster would start again there),
    and in the caller when the workers could not start, with what to do.
    """
    from dask.distributed import LocalCluster  # noqa: PLC0415

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise InputError(f"a dask worker is importing the script that starts the work; {_GUARD}.")
    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0", **kwargs}
    try:
        return LocalCluster(n_workers=n_workers, **options)
    except RuntimeError as err:
        raise InputError(f"dask could not start its {n_workers} worker process(es) ({err}); most often because the "
                         f"workers cannot import the caller's script: {_advice()}.") from err
