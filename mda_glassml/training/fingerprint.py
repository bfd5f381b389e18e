"""What made a resumable artefact, so that a rerun never picks up another run's work.

Every file that training resumes from (a checkpoint, hyperopt's trials, a
fold's ``result.json``) carries a *fingerprint*: a JSON-able dict of what
made it — hashes of the data, the hyperparameters, the featurisation, the
search space, the budget and, where the code shapes the result, the package
version. Before anything is reused its fingerprint is compared with the
current run's, and a mismatch is refused with the keys that differ.

Examples
--------
>>> from mda_glassml.training.fingerprint import check_fingerprint, fingerprint
>>> saved = fingerprint(k=2, dropout=0.0)
>>> check_fingerprint(saved, fingerprint(k=2, dropout=0.0), "the checkpoint run/c.pt")
>>> check_fingerprint(saved, fingerprint(k=4, dropout=0.0), "the checkpoint run/c.pt")
Traceback (most recent call last):
...
mda_glassml.errors.InputError: the checkpoint run/c.pt was made by other work: k: 2 there, 4 now. ...
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["fingerprint", "check_fingerprint", "data_hash"]


def data_hash(data: Any) -> str:
    """SHA-256 (first 16 hex digits) of a :class:`~mda_glassml.training.data.LabelledFrames`' contents.

    Positions, types and boxes of every frame, labels, groups and
    temperatures (and pairs, where set), in order: another data set (or another split of one) has
    another hash. Cached on the object, since the data do not change.
    """
    if data is None:
        return "none"
    cached = getattr(data, "_fingerprint_hash", None)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    for f in data.frames:
        h.update(np.ascontiguousarray(f.positions).tobytes())
        h.update(np.ascontiguousarray(f.types).tobytes())
        h.update(np.array([f.box.Lx, f.box.Ly, f.box.xy, float(f.periodic)]).tobytes())
    for array in (data.labels, data.temperatures):
        h.update(np.ascontiguousarray(array).tobytes())
    h.update("\0".join(map(str, data.groups)).encode())
    if getattr(data, "partner", None) is not None:  # unpaired data keep the hash they always had
        h.update(b"partner" + np.ascontiguousarray(data.partner).tobytes())
    digest = h.hexdigest()[:16]
    object.__setattr__(data, "_fingerprint_hash", digest)
    return digest


def fingerprint(**parts: Any) -> dict[str, Any]:
    """``parts`` as plain JSON values (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(parts, sort_keys=True, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def check_fingerprint(saved: dict[str, Any] | None, mine: dict[str, Any], what: str) -> None:
    """Raise :class:`~mda_glassml.errors.InputError` unless ``saved`` equals ``mine``, naming the differences."""
    if saved is None:
        raise InputError(
            f"{what} records nothing of what made it (written by an older mda_glassml): it cannot be "
            "told apart from other work. Delete it to start afresh, or use another output folder."
        )
    a, b = _flat(saved), _flat(mine)
    diff = [f"{k}: {a.get(k, '(absent)')} there, {b.get(k, '(absent)')} now" for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]
    if diff:
        shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
        raise InputError(
            f"{what} was made by other work: {shown}. Use another output folder, or delete it to start afresh."
        )
