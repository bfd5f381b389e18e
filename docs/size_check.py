"""P(glass) of the shipped (or any) models on campaigns of other sizes: the size check of docs/pretrained.rst.

Usage::

    python docs/size_check.py CAMPAIGN [CAMPAIGN ...] [--models ka2d-dmpnn,ka2d-cnn] [--json OUT]

For every campaign (any engine, any N) and every kept record: the mean
P(glass) over its runs, of the thermal frames and of their inherent
structures, and per model the AUC of the liquids (T above ``--liquid-above``)
against the T = 0.05 glasses; where P(glass) crosses 0.5 along temperature
(every run's records together, :func:`mda_glassml.classify.crossing_temperature`)
beside the campaign's own IS-energy Tg (:func:`mda_glassml.simulation.tg.fit_tg`,
noisy with few runs) and ``--tg`` (the training campaign's); and, with
``--tg``, the AUC of records below ``tg - delta`` against those above
``tg + delta`` (the shipped models' labels).
"""

from __future__ import annotations

import argparse
import json

import gsd.hoomd
import numpy as np

from mda_glassml.classify import Classifier, crossing_temperature
from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.simulation.campaign import Campaign
from mda_glassml.simulation.tg import campaign_is_energies, fit_tg
from mda_glassml.training.loop import scores


def _scores(p: np.ndarray, liquid: np.ndarray, glass: np.ndarray) -> tuple[float, float]:
    """AUC and accuracy of P(glass) (runs x records) on the liquid records against the glass ones."""
    y = np.r_[np.zeros(p[:, liquid].size), np.ones(p[:, glass].size)]
    z = np.clip(np.r_[p[:, liquid].ravel(), p[:, glass].ravel()], 1e-300, 1 - 1e-16)
    return scores(y, np.log(z) - np.log1p(-z))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("campaigns", nargs="+")
    parser.add_argument("--models", default="ka2d-dmpnn,ka2d-cnn")
    parser.add_argument("--liquid-above", type=float, default=0.5)
    parser.add_argument("--tg", type=float, default=None, help="the training campaign's Tg (labels and crossing)")
    parser.add_argument("--delta", type=float, default=0.05)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    out = {}
    for folder in args.campaigns:
        c = Campaign.open(folder)
        temps = c.protocol.record_temperatures()[list(c.records)]
        frames = {False: [], True: []}
        for i in c.complete_runs():
            for inherent, path in ((False, c.paths(i)[0]), (True, c.paths(i)[1])):
                with gsd.hoomd.open(path) as traj:
                    frames[inherent].append([Frame.from_gsd(f, frame=k) for k, f in enumerate(traj)])
        try:  # records up to T = 1, as the tg labels fit it (build_tg_datasets)
            own = fit_tg(*campaign_is_energies(folder), t_max=1.0) if len(frames[False]) > 1 else None
        except InputError as err:
            print(f"{c.folder.name}: no Tg of its own ({err})")
            own = None
        entry = {"n_particles": c.protocol.n_particles, "n_runs": len(frames[False]), "engine": c.engine,
                 "temperatures": temps.tolist(), "tg_own": None if own is None else own.tg,
                 "tg_own_err": None if own is None else own.tg_err, "tg": args.tg, "models": {}}
        for name in args.models.split(","):
            clf = Classifier(name)
            res = {}
            for inherent in (False, True):
                p = np.array([clf.probabilities(run) for run in frames[inherent]])  # runs x records
                auc, _ = _scores(p, temps > args.liquid_above, np.isclose(temps, 0.05))
                r = {"mean_p": p.mean(axis=0).tolist(), "auc": auc,
                     "crossing": crossing_temperature(np.tile(temps, len(p)), p.ravel()).temperature}
                if args.tg is not None:
                    r["auc_tg"], r["accuracy_tg"] = _scores(p, temps > args.tg + args.delta,
                                                            temps < args.tg - args.delta)
                res["inherent" if inherent else "thermal"] = r
            entry["models"][name] = res
            tg_own = "" if own is None else f", own Tg {own.tg:.3f} +- {own.tg_err:.3f}"
            print(f"{c.folder.name} (N = {c.protocol.n_particles}, {entry['n_runs']} runs{tg_own}) {name}:")
            for kind, r in res.items():
                row = "  ".join(f"{t:.3f}:{q:.3f}" for t, q in zip(temps, r["mean_p"]))
                tg_auc = f"  Tg-labels AUC {r['auc_tg']:.3f} accuracy {r['accuracy_tg']:.3f}" if "auc_tg" in r else ""
                print(f"  {kind:9s} AUC {r['auc']:.3f}{tg_auc}  crosses 0.5 at T = {r['crossing']:.3f}")
                print(f"            T:P(glass)  {row}")
        out[c.folder.name] = entry
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
