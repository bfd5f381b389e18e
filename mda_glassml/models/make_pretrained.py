"""Moved to :mod:`mda_glassml.training.recipes` on 2026-12-08 (a training recipe belongs with training).

Run ``python -m mda_glassml.training.recipes`` with the same options; model
cards made before that date name this module in their remake commands.
"""

import sys

_MOVED = ("mda_glassml.models.make_pretrained moved to mda_glassml.training.recipes on 2026-12-08: run "
          "python -m mda_glassml.training.recipes with the same options (or import from it)")


def __getattr__(name: str):
    if name.startswith("__"):  # the import machinery's own questions (__path__, __wrapped__, ...)
        raise AttributeError(name)
    raise ImportError(f"{_MOVED}; {name!r} is there.")


if __name__ == "__main__":
    sys.exit(_MOVED)
