"""Worker processes for campaigns, cross-validation and parallel analyses, started with errors a user can act on.

dask starts its worker processes by *spawning* fresh interpreters, which
import the user's ``__main__`` module again. A script that calls
:func:`~mda_glassml.simulation.campaign.run_campaign`, ``nested_cv`` with
workers, or an analysis' ``run(backend="dask")`` at its top level then starts
the whole work again inside every worker, and what dask reports is "Nanny
failed to start" or a broken process pool, with the cause blanked out.
Workers that find themselves in that state refuse at once and leave a mark
(:func:`refuse_in_a_starting_worker`); the caller, seeing the mark
(:func:`refusals`), says what to do. A worker that died of anything else
(memory, a crash in compiled code) keeps its own error.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .errors import InputError

__all__ = ["local_cluster", "refuse_in_a_starting_worker", "refusals", "guard_advice"]

#: Environment variable naming the file a refusing worker creates (workers inherit the caller's environment).
_MARK = "MDA_GLASSML_REFUSED_WORKER"

_GUARD = ('put the code that starts the work under  if __name__ == "__main__":  (worker processes started fresh, as '
          "dask's are, import your script again)")


def _main_path() -> str | None:
    return getattr(sys.modules.get("__main__"), "__file__", None)


def refuse_in_a_starting_worker() -> None:
    """Raise :class:`~mda_glassml.errors.InputError` in a spawned worker that is still importing the user's script
    (the work would start again there, once per worker), leaving the caller's mark first."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        mark = os.environ.get(_MARK)
        if mark:
            open(mark, "a").close()
        raise InputError(f"a worker process is importing the script that starts the work; {_GUARD}.")


@contextmanager
def refusals() -> Iterator[Callable[[], bool]]:
    """Around starting workers: yields a function that tells whether a worker could not start because of the
    caller's script (it refused while importing it, or the script came from stdin, which workers cannot import)."""
    fd, mark = tempfile.mkstemp(prefix="mda_glassml_refused_")
    os.close(fd)
    os.unlink(mark)  # it exists again only if a worker refuses
    before = os.environ.get(_MARK)
    os.environ[_MARK] = mark
    try:
        yield lambda: os.path.exists(mark) or str(_main_path()).startswith("<")
    finally:
        if before is None:
            os.environ.pop(_MARK, None)
        else:
            os.environ[_MARK] = before
        if os.path.exists(mark):
            os.unlink(mark)


def guard_advice() -> str:
    """What to change so that spawned workers can start: the main guard, or a script file instead of stdin."""
    path = _main_path()
    if str(path).startswith("<"):
        return "run it from a script file: code read from stdin cannot be imported by the worker processes"
    return f"in {path}, {_GUARD}"


def local_cluster(n_workers: int, **kwargs: Any) -> Any:
    """A ``dask.distributed.LocalCluster`` of ``n_workers`` processes, one thread each, dashboard on a free port.

    Raises :class:`~mda_glassml.errors.InputError` inside a worker that is
    still importing the user's script, and in the caller when that is why the
    workers could not start, with what to do.
    """
    from dask.distributed import LocalCluster  # noqa: PLC0415

    refuse_in_a_starting_worker()
    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0", **kwargs}
    with refusals() as refused:
        try:
            return LocalCluster(n_workers=n_workers, **options)
        except RuntimeError as err:
            if not refused():
                raise
            raise InputError(f"dask could not start its {n_workers} worker process(es) ({err}): they cannot import "
                             f"the caller's script; {guard_advice()}.") from err
