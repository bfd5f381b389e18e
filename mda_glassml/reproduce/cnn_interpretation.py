"""Figure 13 and appendix D: reading the dataset-1 CNN.

Figure 13: the six first-layer feature maps of one glass and one liquid of
dataset 1's first outer test fold, drawn from that fold's CNN (the glass it
rates most glassy, the liquid it rates least; whether each is classified
correctly is reported).

Appendix D: pictures saturated with five-fold symmetry, built as the paper
built them, classified by the dataset-1 CNNs of every fold. The paper's
hypothesis was that a CNN which learned local pentagons would call them
glass; every one of its several hundred was called liquid.

The construction (appendix D), with the paper's lengths -- given as
fractions of its unit square, i.e. of its box side 60 -- in length units,
so a box of another side keeps the paper's scale:

1. ``0.35 N`` B particles on an even grid, each displaced uniformly by up to
   60/195 in x and y;
2. a third of them (500 of 1,512) chosen one after another, each next one a
   grid neighbour of one already chosen with probability 3/4 (the clustering
   of Hu et al.), and each surrounded by a pentagon of A particles at
   60/78 from it, turned at random;
3. of any two particles closer than 60/90, one removed (the later placed);
4. the remaining A particles placed at random, never closer than 60/90 to
   any other.

Neighbouring centres sit one grid spacing (about twice the pentagon radius)
apart, so step 3 breaks most pentagons of a cluster; how many survive whole
is reported (:func:`intact_pentagons`).

Examples
--------
>>> import numpy as np
>>> from mda_glassml.reproduce.cnn_interpretation import five_fold_frame
>>> f = five_fold_frame(1080, 30.0, np.random.default_rng(0))
>>> f.n_particles, f.n_b
(1080, 378)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..frames import Frame
from ..training.data import PAPER_BOX_SIDE, LabelledFrames, outer_folds

__all__ = ["PENTAGON_RADIUS", "MIN_DISTANCE", "JITTER", "five_fold_frame", "intact_pentagons", "cnn_interpretation"]

#: Appendix D's lengths in the paper's length units (fractions of its unit square times its box side, 60).
PENTAGON_RADIUS = PAPER_BOX_SIDE / 78
MIN_DISTANCE = PAPER_BOX_SIDE / 90
JITTER = PAPER_BOX_SIDE / 195
#: 500 of the paper's 1,512 B particles are pentagon centres; each next centre neighbours a chosen one with p = 3/4.
PENTAGON_FRACTION = 500 / 1512
P_NEIGHBOUR = 0.75


def _close_pairs(points: np.ndarray, box: Any, r_max: float) -> np.ndarray:
    """(M, 2) index pairs i < j of ``points`` closer than ``r_max`` in the periodic ``box``."""
    from ..graphs import pairs_within  # noqa: PLC0415

    wrapped = np.asarray(box.wrap(np.column_stack([points, np.zeros(len(points))])), np.float32)[:, :2]
    i, j, _ = pairs_within(Frame(np.ascontiguousarray(wrapped), np.zeros(len(points), np.int8), box), r_max)
    return np.stack([i, j], axis=1)


def five_fold_frame(n_particles: int, box_side: float, rng: np.random.Generator, max_tries: int = 200) -> Frame:
    """One appendix-D configuration of ``n_particles`` in a periodic square box of ``box_side`` (see the module)."""
    import freud  # noqa: PLC0415

    if n_particles < 20 or box_side <= 0:
        raise InputError(f"five_fold_frame needs at least 20 particles and a positive box side, got "
                         f"{n_particles} and {box_side}.")
    density = n_particles / box_side**2
    if density * np.pi * (MIN_DISTANCE / 2) ** 2 > 0.5:
        raise InputError(f"density {density:.3g} is too high for particles kept {MIN_DISTANCE:.3g} apart.")
    box = freud.box.Box.square(box_side)
    n_b = int(round(0.35 * n_particles))
    rows = int(round(np.sqrt(n_b)))
    cols = int(np.ceil(n_b / rows))
    grid = np.stack(np.meshgrid((np.arange(cols) + 0.5) / cols, (np.arange(rows) + 0.5) / rows), -1).reshape(-1, 2)
    b = (grid[:n_b] - 0.5) * box_side + rng.uniform(-JITTER, JITTER, (n_b, 2))

    # Pentagon centres: each next one a grid neighbour of a chosen one with probability 3/4.
    n_pent = int(round(PENTAGON_FRACTION * n_b))
    b3 = np.zeros((n_b, 3), np.float32)
    b3[:, :2] = b
    nl = freud.locality.AABBQuery(box, b3).query(b3, {"num_neighbors": 4, "exclude_ii": True}).toNeighborList()
    neighbours = nl.point_indices.reshape(n_b, 4)
    chosen = [int(rng.integers(n_b))]
    free = np.ones(n_b, bool)
    free[chosen[0]] = False
    while len(chosen) < n_pent:
        options = np.array([], np.int64)
        if rng.random() < P_NEIGHBOUR:
            cand = neighbours[np.array(chosen)].ravel()
            options = np.unique(cand[free[cand]])
        if options.size == 0:
            options = np.flatnonzero(free)
        pick = int(rng.choice(options))
        chosen.append(pick)
        free[pick] = False
    angles = rng.uniform(0, 2 * np.pi / 5, n_pent)[:, None] + np.arange(5) * 2 * np.pi / 5
    pent = (b[chosen][:, None, :] + PENTAGON_RADIUS * np.stack([np.cos(angles), np.sin(angles)], -1)).reshape(-1, 2)

    # Overlaps: of two particles closer than MIN_DISTANCE, the later placed goes (B first, then pentagons).
    points = np.vstack([b, pent])
    is_b = np.r_[np.ones(n_b, bool), np.zeros(len(pent), bool)]
    keep = np.ones(len(points), bool)
    for i, j in _close_pairs(points, box, MIN_DISTANCE):
        if keep[i] and keep[j]:
            keep[j] = False
    points, is_b = points[keep], is_b[keep]

    # Fill the rest of the A particles at random, never closer than MIN_DISTANCE to anything (batched RSA).
    n_a_left = n_particles - n_b - int((~is_b).sum())
    if n_a_left < 0:  # more pentagon A than the mixture's A: drop the surplus, at random
        drop = rng.choice(np.flatnonzero(~is_b), -n_a_left, replace=False)
        mask = np.ones(len(points), bool)
        mask[drop] = False
        points, is_b, n_a_left = points[mask], is_b[mask], 0
    for _ in range(max_tries):
        if n_a_left == 0:
            break
        trial = rng.uniform(-box_side / 2, box_side / 2, (max(4 * n_a_left, 64), 2))
        allp = np.vstack([points, trial])
        bad = np.zeros(len(trial), bool)
        for i, j in _close_pairs(allp, box, MIN_DISTANCE):
            if j >= len(points):  # a trial point close to a placed one or to an earlier trial point
                bad[j - len(points)] = True
        ok = trial[~bad][:n_a_left]
        points = np.vstack([points, ok])
        is_b = np.r_[is_b, np.zeros(len(ok), bool)]
        n_a_left -= len(ok)
    if n_a_left:
        raise InputError(f"could not place {n_a_left} A particles {MIN_DISTANCE:.3g} apart in {max_tries} tries.")
    return Frame.from_arrays(points, np.where(is_b, "B", "A"), box=[box_side, box_side])


def intact_pentagons(frame: Frame) -> int:
    """B particles whose five nearest neighbours are all A at the pentagon radius (within 1 %)."""
    from ..graphs import knn  # noqa: PLC0415

    b = np.flatnonzero(frame.types == 1)
    _, j, d = knn(frame, 5, query=b)
    j, d = j.reshape(-1, 5), np.asarray(d, np.float64).reshape(-1, 5)
    return int(((frame.types[j] == 0).all(1) & (np.abs(d / PENTAGON_RADIUS - 1) < 0.01).all(1)).sum())


def cnn_interpretation(cv_dir: str | Path, data: LabelledFrames, n_images: int = 50, n_folds: int = 3,
                       seed: int = 0) -> dict[str, Any]:
    """Figure 13's feature maps and appendix D's five-fold test for dataset ``data``'s CNN fold models.

    Returns a JSON-able summary plus ``"figure"`` (a matplotlib Figure, Figure
    13) for the caller to save.
    """
    from ..classify import Classifier  # noqa: PLC0415
    from ..models.cnn import feature_maps_figure  # noqa: PLC0415

    folds = outer_folds(data.groups, n_folds=n_folds, seed=seed)
    models = [Classifier(Path(cv_dir) / "cnn" / f"fold{k}" / "model.pt") for k in range(n_folds)]
    box = data.frames[0].box
    rng = np.random.default_rng([seed, 13])
    synthetic = [five_fold_frame(data.frames[0].n_particles, float(box.Lx), rng) for _ in range(n_images)]
    per_fold = []
    for clf in models:
        p = clf.probabilities(synthetic)
        per_fold.append({"mean_p_glass": float(p.mean()), "n_glass": int((p > 0.5).sum()), "n_images": len(p)})
    # Figure 13: fold 0's most glassy test glass and least glassy test liquid.
    test = folds[0][1]
    p_test = models[0].probabilities([data.frames[i] for i in test])
    labels = data.labels[test]
    g, liq = test[labels == 1][np.argmax(p_test[labels == 1])], test[labels == 0][np.argmin(p_test[labels == 0])]
    pg, pl = float(p_test[labels == 1].max()), float(p_test[labels == 0].min())
    renderer = models[0].bundle.featurizer
    images = {f"glass (P {pg:.2f})": renderer.image(data.frames[g]),
              f"liquid (P {pl:.2f})": renderer.image(data.frames[liq]),
              "five-fold": renderer.image(synthetic[0])}
    fig = feature_maps_figure(models[0].model, images, title="First-layer feature maps, dataset-1 CNN of fold 0 "
                                                            "(Figure 13)")
    fig.set_size_inches(7.5, 1.5 * len(images))  # noisy maps compress badly: keep the picture small
    return {"n_images": n_images, "per_fold": per_fold,
            "intact_pentagons_mean": float(np.mean([intact_pentagons(f) for f in synthetic])),
            "pentagon_centres": int(round(PENTAGON_FRACTION * round(0.35 * synthetic[0].n_particles))),
            "n_glass": sum(r["n_glass"] for r in per_fold), "n_classified": n_images * n_folds,
            "feature_maps": {"glass_p": pg, "liquid_p": pl, "glass_correct": pg > 0.5, "liquid_correct": pl < 0.5},
            "figure": fig}
