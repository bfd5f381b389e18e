"""Save and load a trained model with everything needed to use it again.

A bundle is one file (``torch.save``) holding only tensors and plain values:
the format name and version, the package version that wrote it, the model
kind (``"dmpnn"`` or ``"cnn"``) and its architecture, the featurisation (or
renderer) settings, a model
card (JSON text: data, hyperparameters, training record, scores) and the
weights. Loading uses ``torch.load(weights_only=True)``, which refuses to
unpickle arbitrary objects, so a bundle from an untrusted source cannot run
code.

Examples
--------
>>> import tempfile, os
>>> from mda_glassml.models.featurize import Featurizer
>>> from mda_glassml.models.dmpnn import DMPNN
>>> from mda_glassml.models.bundle import save_bundle, load_bundle
>>> feat = Featurizer(k=2)
>>> model = DMPNN(feat.node_dim, feat.edge_dim, hidden=8)
>>> path = os.path.join(tempfile.mkdtemp(), "m.pt")
>>> save_bundle(path, model, feat, card={"note": "untrained"})
>>> b = load_bundle(path)
>>> b.kind, b.card["note"], b.featurizer == feat
('dmpnn', 'untrained', True)
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import InputError

__all__ = ["Bundle", "save_bundle", "load_bundle", "register_kind", "FORMAT", "FORMAT_VERSION"]

FORMAT = "mda_glassml.model"
#: Bumped when the layout of a bundle changes; older or newer bundles are refused.
FORMAT_VERSION = 1

# kind -> (model class, featuriser class); filled by register_kind.
_KINDS: dict[str, tuple[Callable[..., torch.nn.Module], Any]] = {}


def register_kind(kind: str, model_cls: Callable[..., torch.nn.Module], featurizer_cls: Any) -> None:
    """Teach bundles a model kind: ``model_cls(**architecture)`` and ``featurizer_cls.from_dict``."""
    _KINDS[kind] = (model_cls, featurizer_cls)


def _register_builtin() -> None:
    from .dmpnn import DMPNN  # noqa: PLC0415
    from .featurize import Featurizer  # noqa: PLC0415

    register_kind("dmpnn", DMPNN, Featurizer)
    from .cnn import CNN  # noqa: PLC0415
    from .render import Renderer  # noqa: PLC0415

    register_kind("cnn", CNN, Renderer)


@dataclass
class Bundle:
    """A loaded model: ``model`` (eval mode), ``featurizer``, ``card`` (dict), ``kind``."""

    kind: str
    model: torch.nn.Module
    featurizer: Any
    card: dict[str, Any]
    package_version: str


def _kind_of(model: torch.nn.Module) -> str:
    _register_builtin()
    for kind, (cls, _) in _KINDS.items():
        if type(model) is cls:
            return kind
    raise InputError(f"no bundle kind for {type(model).__name__}; register it with register_kind().")


def save_bundle(path: str | os.PathLike, model: torch.nn.Module, featurizer: Any,
                card: dict[str, Any] | None = None) -> None:
    """Write ``model`` (its ``config``, weights), ``featurizer`` and ``card`` to ``path`` atomically."""
    from .. import __version__  # noqa: PLC0415

    path = Path(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "kind": _kind_of(model),
        "architecture": json.dumps(model.config.to_dict()),
        "featurizer": json.dumps(featurizer.to_dict()),
        "card": json.dumps(card or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_bundle(path: str | os.PathLike, map_location: str = "cpu") -> Bundle:
    """Load a bundle written by :func:`save_bundle` (safely: weights only)."""
    _register_builtin()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no model bundle at {path}.")
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; anything else gets torch's long story
        raise InputError(f"{path} is not a readable model bundle: not the zip archive torch.save writes (truncated, "
                         "empty, or another kind of file?); bundles come from mda-glassml train or save_bundle.")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise InputError(
            f"{path} is not a readable model bundle ({type(exc).__name__}: "
            f"{(str(exc).splitlines() or ['empty file?'])[0][:200]}); "
            "it may be truncated, corrupt or not made by mda_glassml."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(f"{path} is not an mda_glassml model bundle.")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise InputError(
            f"{path} is a bundle of format {version} (written by mda_glassml {payload.get('package_version')}); "
            f"this mda_glassml reads format {FORMAT_VERSION}: install the version that wrote it, or retrain."
        )
    kind = payload.get("kind")
    if kind not in _KINDS:
        raise InputError(f"{path} holds a model of unknown kind {kind!r}; known: {sorted(_KINDS)}.")
    model_cls, feat_cls = _KINDS[kind]
    try:
        architecture = json.loads(payload["architecture"])
        node_dim, edge_dim = architecture.pop("node_dim", None), architecture.pop("edge_dim", None)
        model = model_cls(node_dim, edge_dim, **architecture) if node_dim is not None else model_cls(**architecture)
        model.load_state_dict(payload["state_dict"])
        featurizer = feat_cls.from_dict(json.loads(payload["featurizer"]))
        card = json.loads(payload["card"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise InputError(f"{path}: the bundle's contents do not fit a {kind} model ({exc}).") from None
    return Bundle(kind, model.eval(), featurizer, card, str(payload.get("package_version")))
