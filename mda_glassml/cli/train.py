"""``mda-glassml train``: a classifier trained on a dataset manifest, with its card and plots."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import UsageError, add_training_args, check_folder, check_output, save_figure


#: What Ctrl-C leaves behind, said after "interrupted".
INTERRUPTED = '; the last checkpoint is kept: run the same command to go on.'


def add_parser(sub) -> None:
    t = sub.add_parser("train", help="train a classifier on a labelled dataset",
                       description="Train a classifier on a dataset manifest (build-datasets), split by trajectory "
                                   "into train/validation/test; resumes from OUT/checkpoint.pt if it exists.")
    add_training_args(t)
    t.add_argument("--epochs", type=int, default=30, help="epochs (default 30)")
    t.add_argument("--k", type=int, default=2, help="nearest neighbours (default 2)")
    t.add_argument("--window", type=float, default=12.0,
                   help="side of the random training windows in length units, as for classify --window "
                        "(default 12, Table 2's 0.2 of the paper's box side 60)")
    t.add_argument("--hidden", type=int, default=300, help="hidden size (default 300)")
    t.add_argument("--depth", type=int, default=3, help="message passing depth (default 3)")
    t.add_argument("--dropout", type=float, default=None, help="dropout (default 0; CNN 0.5)")
    t.add_argument("--ffn-layers", type=int, default=2, help="feed-forward layers (default 2)")
    t.add_argument("--batch-size", type=int, default=None, help="batch size (default 50; CNN 10)")
    t.add_argument("--readout", choices=("mean", "sum"), default=None,
                   help="D-MPNN graph readout: mean (default on windows: the model then applies to whole "
                        "frames) or sum (the paper's; such a model classifies only windows of its training side)")
    t.add_argument("--windows-per-frame", type=int, default=1,
                   help="random windows drawn from each configuration per epoch (default 1, as the paper)")
    t.add_argument("--no-calibrate", action="store_true",
                   help="do not calibrate P(glass) (by default Platt scaling fitted on the whole validation frames, "
                        "one fit per view where both views are there; the card and OUT/reliability.png show the "
                        "test split before/after)")
    t.add_argument("--plot", default=None, help="image of the training curves (default OUT/training.png)")


def _separated_note(fit: dict) -> str:
    """What a Platt fit on validation frames the model separates can and cannot say (empty otherwise)."""
    if not fit.get("separated"):
        return ""
    lo, hi = fit["gap"]
    return (f" (the validation frames are separated: every liquid's logit <= {lo:.3g} < every glass's {hi:.3g}, so "
            "the data fix only that P(glass) = 0.5 lies in that gap, not how steep P(glass) is; more validation "
            "trajectories, or harder ones, would)")


def _training_window(side: float) -> float:
    """``train --window`` (a length, as for classify) as Table 2's fraction of the paper's box side."""
    from ..training.data import PAPER_BOX_SIDE

    if not side > 0:
        raise UsageError(f"--window must be a positive length, got {side}.")
    if side <= 1:
        # Before, --window was a fraction of 60; a window of side <= 1 holds about one particle.
        raise UsageError(
            f"--window {side:g} looks like the old fraction of the paper's box side: --window is now a length "
            f"(length units), as for classify --window; use --window {side * PAPER_BOX_SIDE:g} for the same windows.")
    return side / PAPER_BOX_SIDE


def run(args) -> None:
    from ..plots import training_figure
    from ..training.data import LabelledFrames
    from ..training.loop import TrainConfig
    from ..training.pipeline import train_model

    check_folder(args.out)
    plot = args.plot or str(Path(args.out) / "training.png")
    if args.plot:
        check_output(args.plot, "plot")
    window = _training_window(args.window)
    data = LabelledFrames.from_manifest(args.manifest, args.a_type, args.b_type)
    given = {"dropout": args.dropout, "batch_size": args.batch_size}
    if args.model == "dmpnn":
        params = {"k": args.k, "window": window, "hidden": args.hidden, "depth": args.depth,
                  "ffn_layers": args.ffn_layers}
        options = {"mode": args.featurization, "windows_per_frame": args.windows_per_frame}
        if args.readout is not None:
            options["readout"] = args.readout
    else:
        params, options = {}, {"variant": args.variant, "image_size": args.image_size}
    params.update({k: v for k, v in given.items() if v is not None})
    config = TrainConfig(epochs=args.epochs, seed=args.seed, device=args.device, progress=not args.quiet)
    card = train_model(data, args.out, model=args.model, params=params, config=config, source=args.manifest,
                       calibrate=not args.no_calibrate, **options)
    Path(plot).parent.mkdir(parents=True, exist_ok=True)
    save_figure(training_figure(card["training"]["history"], title=f"{args.model} on {Path(args.manifest).name}"),
                 plot)
    if "calibration" in card:
        from ..training.calibration import Calibration

        cal = card["calibration"]
        save_figure(Calibration(**cal["test_reliability"]).figure(
            f"test split, temperature {cal['temperature']:.3g}, bias {cal.get('bias', 0.0):.3g} "
            f"(fitted on {cal.get('fitted_on', 'validation')})"),
            str(Path(args.out) / "reliability.png"))
    if not args.quiet:
        sc = card["scores"]
        print(f"best epoch {card['training']['best_epoch'] + 1}: validation AUC {sc['validation_auc']:.4f}; "
              f"test AUC {sc['test_auc']:.4f}, accuracy {sc['test_accuracy']:.4f} "
              f"({sc['test_samples']} held-out samples)")
        if "calibration" in card:
            cal = card["calibration"]
            print(f"calibration: temperature {cal['temperature']:.3g}, bias {cal.get('bias', 0.0):.3g} fitted on "
                  f"{cal.get('fitted_on') or 'nothing'}"
                  f"{' (at its bound: the validation split is too easy or too small)' if cal['fit'].get('at_bound') else ''}"
                  f"{' (failed: ' + cal['fit']['failed'] + ')' if 'failed' in cal['fit'] else ''}"
                  f"{_separated_note(cal['fit'])}; "
                  f"test ECE {cal['test_before']['ece']:.3f} -> {cal['test_after']['ece']:.3f}, Brier "
                  f"{cal['test_before']['brier']:.3f} -> {cal['test_after']['brier']:.3f}")
        print(f"wrote {Path(args.out) / 'model.pt'}, card.json and {plot}", file=sys.stderr)
