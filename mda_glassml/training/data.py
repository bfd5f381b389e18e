"""Labelled configurations, grouped splits and the graphs a model trains on.

A :class:`LabelledFrames` holds frames with their labels (1 = glass,
0 = liquid) and their *group* — the trajectory they come from. A
trajectory's liquid and glass are correlated, so every split here keeps a
group whole: no trajectory lands in two splits.

Examples
--------
>>> from mda_glassml.training.data import group_split
>>> groups = ["t0", "t0", "t1", "t1", "t2", "t2", "t3", "t3", "t4", "t4"]
>>> train, val, test = group_split(groups, (0.6, 0.2, 0.2), seed=1)
>>> sorted(len(s) for s in (train, val, test))
[2, 2, 6]
>>> {groups[i] for i in train} & {groups[i] for i in test}
set()
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..frames import Frame
from ..graphs import window as cut_window

__all__ = ["LabelledFrames", "group_split", "outer_folds", "window_centers", "windows", "sample_windows",
           "evaluation_windows", "PAPER_BOX_SIDE"]

#: The paper's box side (4320 particles at density 1.2): Table 2's window lengths are fractions of it.
PAPER_BOX_SIDE = 60.0


@dataclass
class LabelledFrames:
    """Frames, labels (1 = glass, 0 = liquid), groups (trajectory ids) and temperatures.

    ``partner`` (optional) pairs two views of one configuration -- a thermal
    frame and its inherent structure: ``partner[i]`` is the index of ``i``'s
    other view in this set, -1 for none. Pairs share their group and label,
    so a grouped split keeps them together; :meth:`subset` follows them.
    """

    frames: list[Frame]
    labels: np.ndarray
    groups: np.ndarray
    temperatures: np.ndarray
    partner: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.groups = np.asarray(self.groups, dtype=str)
        self.temperatures = np.asarray(self.temperatures, dtype=np.float64)
        n = len(self.frames)
        if not (len(self.labels) == len(self.groups) == len(self.temperatures) == n):
            raise InputError("frames, labels, groups and temperatures must have the same length.")
        if n == 0:
            raise InputError("the data set is empty.")
        bad = set(np.unique(self.labels)) - {0, 1}
        if bad:
            raise InputError(f"labels must be 0 (liquid) or 1 (glass), got {sorted(bad)}.")
        if self.partner is not None:
            p = np.asarray(self.partner)
            if p.dtype.kind not in "iu":
                raise InputError(f"partner must hold integer indices (-1 for none), got {p.dtype} values.")
            self.partner = p = p.astype(np.int64)
            paired = np.flatnonzero(p >= 0)
            if p.shape != (n,) or p.min(initial=-1) < -1 or p.max(initial=-1) >= n or np.any(
                    p[p[paired]] != paired) or np.any(p[paired] == paired):
                raise InputError("partner must give, for every configuration, the index of its other view in "
                                 "the same set (pairs point at each other) or -1.")
            if np.any(self.labels[paired] != self.labels[p[paired]]) or np.any(
                    self.groups[paired] != self.groups[p[paired]]):
                raise InputError("paired configurations must share their label and their group (trajectory).")

    def __len__(self) -> int:
        return len(self.frames)

    @classmethod
    def concat(cls, parts: Sequence["LabelledFrames"]) -> "LabelledFrames":
        """One set of ``parts`` in order; pairs within a part stay pairs (unpaired parts: -1)."""
        parts = list(parts)
        partner = None
        if any(p.partner is not None for p in parts):
            starts = np.cumsum([0] + [len(p) for p in parts])[:-1]
            partner = np.concatenate([np.full(len(p), -1, np.int64) if p.partner is None
                                      else np.where(p.partner >= 0, p.partner + s, -1) for p, s in zip(parts, starts)])
        return cls(sum((p.frames for p in parts), []), np.concatenate([p.labels for p in parts]),
                   np.concatenate([p.groups for p in parts]), np.concatenate([p.temperatures for p in parts]), partner)

    def subset(self, index: Sequence[int]) -> "LabelledFrames":
        """The configurations ``index`` lists, in its order; a pair stays a pair when both are listed."""
        index = np.asarray(index, dtype=np.int64)
        partner = None
        if self.partner is not None:
            if len(np.unique(index)) != len(index):
                raise InputError("a subset of paired configurations cannot repeat one (its pair would be "
                                 "ambiguous): repeat configurations before pairing them.")
            where = np.full(len(self), -1, dtype=np.int64)
            where[index] = np.arange(len(index))
            partner = np.where(self.partner[index] >= 0, where[np.maximum(self.partner[index], 0)], -1)
        return LabelledFrames([self.frames[i] for i in index], self.labels[index], self.groups[index],
                              self.temperatures[index], partner)

    def geometry(self) -> dict[str, float]:
        """Mean number density, mean box side and median particle count: what a model card records
        so that a classifier can warn about frames far from its training data."""
        return {"density": float(np.mean([f.n_particles / f.area for f in self.frames])),
                "box_side": float(np.mean([np.sqrt(f.area) for f in self.frames])),
                "n_particles": int(np.median([f.n_particles for f in self.frames]))}

    def require_both_classes(self, what: str = "the data") -> None:
        """Raise a clear error if only one class is present (no AUC, no classifier)."""
        present = set(np.unique(self.labels).tolist())
        if present != {0, 1}:
            only = "glasses" if present == {1} else "liquids"
            raise InputError(
                f"{what} holds {only} only ({len(self)} configurations): a classifier needs both glasses "
                "(label 1) and liquids (label 0). Check the manifest or the split."
            )

    @classmethod
    def from_manifest(cls, path: str | os.PathLike, a_type: str = "A", b_type: str = "B") -> "LabelledFrames":
        """Load the configurations a dataset manifest lists (see :mod:`mda_glassml.simulation.datasets`)."""
        import gsd.hoomd  # noqa: PLC0415

        from ..simulation.datasets import read_manifest  # noqa: PLC0415

        path = Path(path)
        if not path.is_file():
            raise InputError(f"no manifest at {path}.")
        rows = read_manifest(path)
        if not rows:
            raise InputError(f"the manifest {path} lists no configurations.")
        missing = sorted({r.file for r in rows if not Path(r.file).is_file()})
        if missing:
            raise InputError(
                f"the manifest {path} points at {len(missing)} missing file(s), e.g. {missing[0]}; "
                "manifests name files relative to their own folder: keep the campaign beside them."
            )
        by_file: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            by_file[r.file].append(i)
        frames: list[Frame | None] = [None] * len(rows)
        for file, idx in by_file.items():
            try:
                with gsd.hoomd.open(file, "r") as traj:
                    for i in idx:
                        frames[i] = Frame.from_gsd(traj[rows[i].frame], a_type, b_type, frame=rows[i].frame)
            except InputError:
                raise
            except Exception as exc:  # gsd's own errors on a truncated or foreign file
                raise InputError(f"cannot read {file} ({exc}); re-run the campaign to redo it.") from None
        return cls(frames, [r.label for r in rows], [r.trajectory for r in rows],
                   [r.temperature for r in rows])


def group_split(groups: Sequence, fractions: Sequence[float], seed: int = 0) -> list[np.ndarray]:
    """Split configurations into parts of about ``fractions`` of them, keeping each group whole.

    Groups are shuffled (seeded) and dealt to the parts in order until each
    part holds its share of configurations.
    """
    groups = np.asarray(groups, dtype=str)
    fractions = np.asarray(fractions, dtype=np.float64)
    if np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise InputError(f"split fractions must be >= 0 and sum to 1, got {fractions.tolist()}.")
    unique, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if len(unique) < np.count_nonzero(fractions):
        raise InputError(
            f"{len(unique)} trajectories cannot fill {np.count_nonzero(fractions)} splits: "
            "splits keep trajectories whole; add trajectories."
        )
    order = np.random.default_rng(seed).permutation(len(unique))
    bounds = np.cumsum(fractions) * len(groups)
    filled = np.cumsum(counts[order])
    # A group goes to the part its midpoint (in configurations) falls into.
    part_of = np.searchsorted(bounds, filled - counts[order] / 2, side="right")
    part_of = np.minimum(part_of, len(fractions) - 1)
    group_part = np.empty(len(unique), dtype=np.int64)
    group_part[order] = part_of
    parts = [np.flatnonzero(group_part[inverse] == p) for p in range(len(fractions))]
    empty = [i for i, (part, f) in enumerate(zip(parts, fractions)) if f > 0 and part.size == 0]
    if empty:
        need = int(np.ceil(1.0 / fractions[fractions > 0].min()))
        raise InputError(
            f"{len(unique)} trajectories leave split(s) {empty} of {fractions.tolist()} empty: splits keep "
            f"trajectories whole, so a part of {fractions[fractions > 0].min():.0%} needs about {need} trajectories "
            "in all; add trajectories.")
    return parts


def outer_folds(groups: Sequence, n_folds: int = 3, test_fraction: float = 0.2,
                seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_folds`` disjoint outer test sets of about ``test_fraction`` each, grouped; (train, test) pairs.

    The paper's scheme: three disjoint 20 % test sets, the other 80 % to train.
    """
    from sklearn.model_selection import GroupKFold  # noqa: PLC0415

    n_parts = int(round(1 / test_fraction))
    if n_folds > n_parts:
        raise InputError(f"{n_folds} disjoint test folds of {test_fraction:.0%} do not fit in the data.")
    groups = np.asarray(groups, dtype=str)
    if len(np.unique(groups)) < n_parts:
        raise InputError(
            f"{len(np.unique(groups))} trajectories cannot make {n_parts} grouped parts of "
            f"{test_fraction:.0%}; add trajectories."
        )
    splitter = GroupKFold(n_splits=n_parts, shuffle=True, random_state=seed)
    folds = list(splitter.split(np.zeros(len(groups)), groups=groups))
    return [(train, test) for train, test in folds[:n_folds]]


def window_centers(frames: Sequence[Frame], rng: np.random.Generator) -> np.ndarray:
    """One uniformly random window centre per frame, anywhere in its (periodic) box."""
    u = rng.random((len(frames), 2))
    sides = np.array([[f.box.Lx, f.box.Ly] for f in frames])
    return (u - 0.5) * sides


def windows(frames: Sequence[Frame], side: float | None, rng: np.random.Generator) -> list[Frame]:
    """A random square window of ``side`` (length units) from each frame; the frames if ``side`` is None."""
    if side is None:
        return list(frames)
    centers = window_centers(frames, rng)
    return [cut_window(f, side, c) for f, c in zip(frames, centers)]


def sample_windows(frames: Sequence[Frame], labels: np.ndarray, side: float | None, rng: np.random.Generator,
                   per_frame: int = 1) -> tuple[list[Frame], np.ndarray]:
    """``per_frame`` rounds of :func:`windows` from one ``rng``, with their labels (round after round)."""
    cut: list[Frame] = []
    for _ in range(per_frame):
        cut += windows(frames, side, rng)
    return cut, np.tile(np.asarray(labels), per_frame)


def evaluation_windows(frames: Sequence[Frame], labels: np.ndarray, side: float | None, seed: int,
                       per_frame: int = 1) -> tuple[list[Frame], np.ndarray]:
    """The fixed evaluation windows of ``seed`` -- those a graph task scores (validation, test).

    Anything scored beside a model (a no-ML baseline, a saved fold model
    reloaded) uses this function, so it sees the very windows the model saw.
    """
    return sample_windows(frames, labels, side, np.random.default_rng([seed, 2]), per_frame)

