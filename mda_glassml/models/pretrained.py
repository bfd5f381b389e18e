"""The models that ship with mda_glassml, loaded by name (or any bundle by path).

>>> from mda_glassml.models.pretrained import available_models
>>> sorted(available_models())
['ka2d-cnn', 'ka2d-cnn-paper', 'ka2d-dmpnn', 'ka2d-dmpnn-paper']

``ka2d-dmpnn`` and ``ka2d-cnn`` (card version 2) tell a glass from a liquid
by the campaign's own Tg, on thermal frames and inherent structures alike;
the ``-paper`` models (card version 1) were trained on the paper's exact task
(every liquid of datasets 1-6 against the T = 0.05 glass). See
docs/pretrained.rst.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from .bundle import Bundle

__all__ = ["MODEL_DIR", "available_models", "load_model", "model_path"]

MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "models"

#: Shipped model names -> bundle files in :data:`MODEL_DIR`.
_SHIPPED = {name: f"{name}.pt" for name in ("ka2d-dmpnn", "ka2d-cnn", "ka2d-dmpnn-paper", "ka2d-cnn-paper")}


def available_models() -> dict[str, Path]:
    """Names of the shipped models and their files."""
    return {name: MODEL_DIR / file for name, file in _SHIPPED.items()}


def model_path(model: str | os.PathLike) -> Path:
    """The bundle file of a shipped model name, or ``model`` itself if it is a file."""
    shipped = ', '.join(sorted(_SHIPPED))
    if not isinstance(model, (str, os.PathLike)) or not str(model):
        raise InputError(f"model must be a shipped model's name ({shipped}) or a bundle's path, got {model!r}.")
    if str(model) in _SHIPPED and not Path(model).is_file():  # a name, also as a Path
        path = MODEL_DIR / _SHIPPED[str(model)]
        if not path.is_file():
            raise InputError(f"the shipped model {str(model)!r} is missing from this installation ({path}); "
                             "reinstall mda-glassml.")
        return path
    path = Path(model)
    if path.is_file():
        return path
    if path.is_dir():
        inside = " (it holds model.pt: give that file)" if (path / "model.pt").is_file() else ""
        raise InputError(f"model {str(model)!r} is a folder{inside}; give a bundle file or a shipped model "
                         f"({shipped}).")
    raise InputError(f"no model {str(model)!r}: give a shipped model ({shipped}) "
                     "or the path of a model bundle (model.pt from mda-glassml train).")


def load_model(model: str | os.PathLike | Bundle, map_location: str = "cpu") -> Bundle:
    """A shipped model by name, a bundle by path, or a :class:`~mda_glassml.models.bundle.Bundle` as is."""
    from .bundle import Bundle, load_bundle  # noqa: PLC0415  (torch: model_path and the names need none)

    if isinstance(model, Bundle):
        return model
    return load_bundle(model_path(model), map_location=map_location)
