"""Inference through ``torch.compile``: the same numbers, fused kernels, and eager if compiling fails.

Per-edge work in the D-MPNN is a chain of gathers, a scatter, a matrix
product and element-wise steps over tensors of (edges x hidden). Run op by
op (eager), each step writes its result to memory and the next reads it
back: once a frame's edge tensors outgrow the CPU's last-level cache
(above about 10⁴ particles at ``hidden = 32``) that traffic sets the
speed, and the cost per particle more than doubles. ``torch.compile``
(TorchInductor) fuses each chain into loops that keep the intermediates in
registers and cache, so the cost per particle stays near its in-cache value
at every size (``benchmarks/bench_scale.py --compile``; docs/benchmarks.rst).

The first call of each compiled step compiles it (tens of seconds on a CPU,
a few once TorchInductor's on-disk cache holds it; each worker process of a
parallel run compiles its own), so compiling pays on long trajectories and
big frames, not on a handful of small ones. On a CPU it needs a C++
compiler; if compiling fails for any reason, :class:`Compiled` warns once,
saying why, and runs the eager code instead: the results are the same
either way, only the speed differs.

Examples
--------
>>> import torch
>>> from mda_glassml.models.compiled import Compiled
>>> double = Compiled(lambda x: 2 * x)
>>> double(torch.ones(3)).tolist()           # compiles on this first call (or warns and runs eagerly)
[2.0, 2.0, 2.0]
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import torch

__all__ = ["Compiled", "CompileWarning", "CompiledSteps"]


class CompileWarning(UserWarning):
    """``torch.compile`` failed; the eager code ran instead (same results, eager speed)."""


class Compiled:
    """``fn`` compiled by ``torch.compile`` (dynamic shapes: one compilation serves every frame size).

    Calls go to the compiled function; if compiling or running it raises
    and ``fn`` itself does not (an error of the inputs raises as it would
    without compiling), a :class:`CompileWarning` names the error once and
    this and every later call run ``fn``. Not picklable by design: hold the eager function
    and compile again where it runs (:meth:`DMPNN.compile_steps`).
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.eager = fn
        self.compiled: Callable[..., Any] | None = torch.compile(fn, dynamic=True)

    def __call__(self, *args: Any) -> Any:
        if self.compiled is not None:
            try:
                return self.compiled(*args)
            except Exception as exc:  # noqa: BLE001 - a missing C++ compiler, an unsupported op, ...: eager runs
                out = self.eager(*args)  # a fault of the inputs raises here, as it would without compiling
                self.compiled = None
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                warnings.warn(f"torch.compile failed ({type(exc).__name__}: {first[:300]}); running the eager "
                              "code instead (same results, eager speed). On a CPU compiling needs a C++ "
                              "compiler (g++ or clang++ on the PATH, or CXX set); without compile=True this "
                              "warning goes away.", CompileWarning, stacklevel=2)
                return out
        return self.eager(*args)

    def __reduce__(self) -> Any:
        raise TypeError("a compiled function does not pickle; pickle the model and compile it where it runs.")


class CompiledSteps:
    """Mixin for a model (``nn.Module``): :meth:`compile_steps` routes its hot methods through :class:`Compiled`.

    The methods named by :meth:`compiled_step_names` are replaced, on the
    instance, by compiled versions of themselves. The model still pickles
    (parallel workers get it that way): the compiled functions are dropped
    and made again where it is unpickled, so each process compiles its own.
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
                setattr(self, name, Compiled(getattr(type(self), name).__get__(self)))
        return self

    @property
    def is_compiled(self) -> bool:
        return any(name in self.__dict__ for name in self.compiled_step_names())

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        compiled = [name for name in self.compiled_step_names() if state.pop(name, None) is not None]
        state["_compile_steps"] = bool(compiled)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        compiled = state.pop("_compile_steps", False)
        super().__setstate__(state)  # type: ignore[misc]
        if compiled:
            self.compile_steps()
