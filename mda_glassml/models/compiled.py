"""Inference through ``torch.compile``: the same numbers, fused kernels, and eager if compiling fails.

Per-edge work in the D-MPNN is a chain of gathers, a scatter, a matrix
product and element-wise steps over tensors of (edges x hidden). Run op by
op (eager), each step writes its result to memory and the next reads it
back: once a frame's edge tensors outgrow the CPU's last-level cache
(above about 10⁴ particles at ``hidden = 32``) that traffic sets the
speed, and the model's cost per particle more than doubles.
``torch.compile`` (TorchInductor) fuses each chain into loops that keep
the intermediates in cache, so the model's cost per particle stays near its
in-cache value at every size. End to end (graph, tiles and checks
included) that is 1.3 times faster at 10⁵ particles and 1.1 times at 10⁶,
no gain at 10⁴ (``benchmarks/bench_scale.py --compile``; docs/benchmarks.rst).

For inference: training a compiled model works, but dropout then draws
other random numbers than eager code. The first call of each compiled step
compiles it (about 30 s on a CPU, about 5 s once TorchInductor's on-disk
cache holds it; each worker process of a parallel run compiles its own),
so compiling pays on long trajectories and big frames, not on a handful of
small ones. On a CPU it needs a C++ compiler. If compiling fails, or torch
would stop compiling a step because it has been recompiled too often
(``torch._dynamo.config.recompile_limit``, 8: every distinct model setting,
dtype or device is one compilation, shared by all models of the process),
:class:`Compiled` warns once in the process, naming the step and the
error, and the eager code runs from then on: the results are the same
either way, only the speed differs.

Examples
--------
>>> import torch
>>> from mda_glassml.models.compiled import Compiled
>>> double = Compiled(lambda x: 2 * x, "double")
>>> double(torch.ones(3)).tolist()           # compiles on this first call (or warns and runs eagerly)
[2.0, 2.0, 2.0]
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ..errors import GlassMLWarning, warn

__all__ = ["Compiled", "CompileWarning", "CompiledSteps"]

#: Why compiling failed in this process, once it has: later steps run eagerly without trying again.
_FAILED: list[str] = []


class CompileWarning(GlassMLWarning):
    """``torch.compile`` failed; the eager code ran instead (same results, eager speed)."""


class Compiled:
    """``fn`` compiled by ``torch.compile`` (dynamic shapes: one compilation serves every frame size).

    Calls go to the compiled function. If compiling or running it raises
    and ``fn`` itself does not (an error of the inputs raises as it would
    without compiling; so do running out of memory and interrupts), a
    :class:`CompileWarning` names ``name`` and the error once in the
    process, and this and every compiled step made later run eagerly. Not
    picklable by design: pickle the model and compile again where it runs
    (:meth:`CompiledSteps.compile_steps`).
    """

    def __init__(self, fn: Callable[..., Any], name: str = "a step") -> None:
        self.eager, self.name = fn, name
        self.compiled: Callable[..., Any] | None = None if _FAILED else torch.compile(fn, dynamic=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is None or _FAILED:
            return self.eager(*args, **kwargs)
        try:
            # Past the recompile limit torch would run eagerly with only a log line; raise instead, so
            # that it is said.
            with torch._dynamo.config.patch(fail_on_recompile_limit_hit=True):
                return self.compiled(*args, **kwargs)
        except (MemoryError, torch.OutOfMemoryError, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - a missing C++ compiler, an unsupported op, ...: eager runs
            failure = exc
        out = self.eager(*args, **kwargs)  # outside the except: an input error raises alone, as without compiling
        self._give_up(failure)
        return out

    def _give_up(self, exc: Exception) -> None:
        self.compiled = None
        text = str(exc).strip()
        first = text.splitlines()[0][:300] if text else ""
        if "CxxCompiler" in type(exc).__name__ + text:
            hint = ("On a CPU compiling needs a C++ compiler: g++ or clang++ on the PATH, or CXX set to one.")
        elif "recompile" in (type(exc).__name__ + text).lower():
            hint = ("Each model setting, dtype or device is one compilation, shared by every model in the process; "
                    "use fewer of them per process.")
        else:
            hint = ""
        hint = f" {hint}" if hint else ""
        if not _FAILED:
            _FAILED.append(f"{type(exc).__name__}: {first}")
            warn(f"torch.compile failed for {self.name} ({_FAILED[0]}); compiled steps run as eager code "
                 f"from now on in this process (same results, eager speed).{hint} Without compile=True "
                 "this warning goes away.", CompileWarning)

    def __reduce__(self) -> Any:
        raise TypeError("a compiled function does not pickle; pickle the model and compile it where it runs.")


class CompiledSteps:
    """Mixin for a model (``nn.Module``): :meth:`compile_steps` routes its hot methods through :class:`Compiled`.

    The methods named by :meth:`compiled_step_names` are replaced, on the
    instance, by compiled versions of themselves. The model still pickles
    (parallel workers get it that way) and copies: the compiled functions
    are dropped and made again for the new object, so each process
    compiles its own. For one device: a ``DataParallel`` replica would call
    steps bound to the original.
    """

    def compiled_step_names(self) -> tuple[str, ...]:
        """The methods :meth:`compile_steps` compiles (``("forward",)`` unless a model says otherwise)."""
        return ("forward",)

    def compile_steps(self) -> Any:
        """Compile the model's hot steps with ``torch.compile`` for inference; returns self.

        The first call of each compiles it; results equal the eager model's
        to floating-point noise (see :mod:`mda_glassml.models.compiled`).
        """
        for name in self.compiled_step_names():
            if name not in self.__dict__:
                setattr(self, name, Compiled(getattr(type(self), name).__get__(self),
                                             f"{type(self).__name__}.{name}"))
        return self

    @property
    def is_compiled(self) -> bool:
        """Whether :meth:`compile_steps` was called (its steps may run eagerly after a :class:`CompileWarning`)."""
        return any(name in self.__dict__ for name in self.compiled_step_names())

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # type: ignore[misc]
        compiled = [name for name in self.compiled_step_names() if state.pop(name, None) is not None]
        state["_compile_steps"] = bool(compiled)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        compiled = state.pop("_compile_steps", False)
        super().__setstate__(state)  # type: ignore[misc]
        if compiled:
            self.compile_steps()
