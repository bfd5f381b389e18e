"""Diagnostic: a shipped model's Platt scaling refitted on one view of the validation split alone.

Usage::

    python docs/calibration_by_view.py WORK [--models ka2d-dmpnn,ka2d-cnn] [--cooling cool1080]

``WORK`` is a ``training.recipes --work`` folder of the shipped recipe (its
``tg/`` manifests and ``heldout/`` configurations). The script rebuilds the
recipe's training set and its grouped split exactly (the pooled refit gives
the shipped calibration back), fits Platt scaling on the validation frames
of one view -- thermal frames only, or inherent structures only -- and
prints where P(glass) then crosses 0.5 along the held-out cooling runs,
with accuracies and ECE on the held-out sets. Nothing here chooses anything:
it measures how far one calibration for both views is from each view's own
(docs/pretrained.rst). It was written before the shipped models had one
calibration per view (``calibration["views"]``, fitted by ``train_model``);
each refit here replaces both by its single fit.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np

from mda_glassml.training import recipes as mp
from mda_glassml.models.pretrained import load_model
from mda_glassml.training.calibration import fit_platt
from mda_glassml.training.data import group_split
from mda_glassml.training.fingerprint import data_hash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work")
    parser.add_argument("--models", default="ka2d-dmpnn,ka2d-cnn")
    parser.add_argument("--cooling", default="cool1080", help="the cooling campaign's name (hold runs pair with it)")
    args = parser.parse_args()
    work = Path(args.work)
    held = mp.heldout_sets(work / "heldout" / "ka2d_heldout.gsd", work / "heldout" / "ka2d_heldout.csv")
    sets = {k: v for k, v in held.items() if not k.startswith("tg_band")}
    band = {k: v for k, v in held.items() if k.startswith("tg_band")}
    for name in args.models.split(","):
        bundle = load_model(name)
        card = bundle.card
        keep_out = list(card["heldout_trajectories"])
        # the recipe's training set and split (recipes._main_tg, train_model), with each configuration's view
        trained = [d.subset(np.flatnonzero(~np.isin(d.groups, keep_out)))
                   for d in (mp._load(work / "tg", "tg_thermal"), mp._load(work / "tg", "tg_thermal_is"))]
        inherent = np.r_[np.zeros(len(trained[0]), bool), np.ones(len(trained[1]), bool)]
        both = mp._pair_holds(mp._concat(trained), args.cooling)
        index = mp._balance_index(both.labels)
        data, inherent = both.subset(index), inherent[index]
        if data_hash(data) != card["data"]["hash"]:
            raise SystemExit(f"{name}: the rebuilt training set is not the one its card records (hash "
                             f"{data_hash(data)} against {card['data']['hash']}): another campaign or work folder, or "
                             "a work folder built after 2026-12-08, which tags the hold runs' record 0 at T = 2 where "
                             "the shipped cards' data had the hold temperature (pretrained.rst)?")
        val = group_split(data.groups, (0.8, 0.1, 0.1), seed=mp.SEED)[1]
        from mda_glassml.classify import Classifier  # noqa: PLC0415

        z = Classifier(bundle).logits([data.frames[i] for i in val])
        y, view = data.labels[val], inherent[val]
        for which, keep in (("both views", np.ones_like(view)), ("thermal only", ~view), ("inherent only", view)):
            fit = fit_platt(y[keep], z[keep])
            refit = copy.copy(bundle)
            refit.card = copy.deepcopy(card)
            refit.card["calibration"].update(temperature=fit.temperature, bias=fit.bias)
            refit.card["calibration"].pop("views", None)  # this one fit for every frame, whatever the card has
            report = mp.heldout_report(refit, sets, band, tg=card["labels"]["tg"], cooling=args.cooling)
            cr, sc = report["crossing"], report["sets"]
            print(f"{name:11s} Platt on {which:13s} (T {fit.temperature:.3f}, bias {fit.bias:+.3f}): crossing "
                  f"{cr['thermal']['pooled']:.3f} thermal, {cr['inherent']['pooled']:.3f} inherent; accuracy "
                  + ", ".join(f"{k} {sc[k]['accuracy']:.3f}" for k in ("tg_thermal", "tg_is", "dataset1_is",
                                                                        "dataset2_is", "dataset3_is"))
                  + f"; ECE tg_thermal {sc['tg_thermal']['ece']:.3f}, tg_is {sc['tg_is']['ece']:.3f}", flush=True)


if __name__ == "__main__":
    main()
