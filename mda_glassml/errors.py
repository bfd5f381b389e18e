"""What goes wrong, and how this package says it.

:class:`InputError` is every refusal of bad user input (a ``ValueError``
whose message says what is wrong and what to do; the command line prints it
without a traceback); :class:`GlassMLWarning` is the base of every warning
the package gives, through :func:`warn`, which attributes it to the user's
line rather than to ours. Every layer imports them from here; nothing here
imports the rest of the package.

Examples
--------
>>> from mda_glassml.errors import InputError
>>> from mda_glassml.frames import Frame
>>> try:
...     Frame.from_arrays([[0, 0]], ["A"], box=[-1, 4])
... except InputError as error:
...     print(type(error).__name__, isinstance(error, ValueError))
InputError True
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["InputError", "GlassMLWarning", "warn", "unknown_keywords"]


class InputError(ValueError):
    """Bad user input, with a message that says what is wrong and what to do.

    A :class:`ValueError`, so ``except ValueError`` catches it too; the command
    line prints these without a traceback.
    """


class GlassMLWarning(UserWarning):
    """Base of this package's warnings (a :class:`UserWarning`; the command line prints them on one line)."""


def warn(message: str, category: type[Warning] = GlassMLWarning, key: Any = None) -> None:
    """``warnings.warn`` attributed to the line that called into this package: the user's, not ours.

    ``key``: what the warning is about (a kind and a band of values), carried on the warning for the
    parallel analyses, which hand their workers' warnings back to the caller and say each key once.
    """
    import os  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import warnings  # noqa: PLC0415

    # Ours, and OVITO's (it calls modifiers from its own pipeline code, which the user called).
    skipped = [os.path.dirname(os.path.abspath(__file__)) + os.sep]
    if "ovito" in sys.modules:
        skipped.append(os.path.dirname(os.path.abspath(sys.modules["ovito"].__file__)) + os.sep)
    # The caller of the outermost such frame: decorators (torch.inference_mode) put library frames between ours.
    frame, level, outermost = sys._getframe(0), 1, 1
    while frame is not None:
        if os.path.abspath(frame.f_code.co_filename).startswith(tuple(skipped)):
            outermost = level
        frame, level = frame.f_back, level + 1
    note = category(message)
    note.key = key
    warnings.warn(note, stacklevel=outermost + 1)


def unknown_keywords(owner: str, unknown: Any, known: Sequence[str]) -> InputError:
    """The error for keywords ``owner`` does not take, with the closest known one for each (a typo, mostly)."""
    import difflib

    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return InputError(f"{owner} got unknown keyword argument(s) {', '.join(parts)}; its keywords are "
                      f"{', '.join(known)}.")
