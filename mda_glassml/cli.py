"""The ``mda-glassml`` command.

Subcommands adapt the command line to the analyses and hold no science:

``mda-glassml classify [TRAJECTORY]``
    P(glass) per frame from a shipped or trained model, with the B-neighbor
    metrics beside it: a CSV table and a plot against frame (or temperature).
``mda-glassml metrics [TRAJECTORY]``
    B-neighbor metrics per frame: a CSV table and a plot against frame (or
    temperature, when the trajectory logs it).
``mda-glassml rdf [TRAJECTORY]``
    Partial RDFs (AA, AB, BB, all) averaged over frames: a CSV table and a plot.
``mda-glassml simulate --n-trajectories N --out DIR``
    A campaign of independent cooling runs (or equilibrium liquids with
    ``--hold-temperature``) on dask; restartable (see
    :mod:`mda_glassml.simulation.campaign`).
``mda-glassml build-datasets --cooling DIR [--liquids DIR] --out DIR``
    The paper's six labelled datasets as manifests (see
    :mod:`mda_glassml.simulation.datasets`); with ``--by-tg`` every record
    labelled by its temperature against the campaign's own Tg instead.
``mda-glassml train --manifest CSV --out DIR``
    Train a classifier on a dataset (grouped train/validation/test split);
    writes a model bundle, its card and a plot of the training curves.
``mda-glassml crossval --manifest CSV --out DIR``
    Nested cross-validation with hyperopt's TPE (resumable).

With no TRAJECTORY they run on the bundled example (a 2D Kob–Andersen
cooling run) and say so.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["main"]


from .errors import InputError


class UsageError(InputError):
    """A problem with the command line itself."""


def _check_output(path: str | None, kind: str) -> None:
    """Fail before any work if an output cannot be written."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--{kind} {path} is a folder; give a file name.")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"cannot write --{kind} {path}: folder {parent} does not exist.")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"cannot write --{kind} {path}: folder {parent} is not writable.")
    if kind == "plot":
        from matplotlib.backend_bases import FigureCanvasBase

        suffix = target.suffix.lower().lstrip(".")
        supported = FigureCanvasBase.get_supported_filetypes()
        if suffix not in supported:
            raise UsageError(f"--plot {path}: unknown image type {suffix!r}; use one of {', '.join(sorted(supported))}.")


def _check_collisions(args) -> None:
    """Fail before any work if an output would replace an input or another output (--out on the trajectory
    replaced it with a table; --out and --plot on one name kept only the picture)."""
    inputs = {Path(p).resolve(): f"the {kind}" for kind in ("trajectory", "topology")
              if (p := getattr(args, kind, None))}
    outputs = [(kind, Path(p).resolve()) for kind in ("out", "plot") if (p := getattr(args, kind, None))]
    for kind, target in outputs:
        if target in inputs:
            raise UsageError(f"--{kind} {getattr(args, kind)} is {inputs[target]}: writing it would destroy the "
                             "input; give another file name.")
    if len(outputs) == 2 and outputs[0][1] == outputs[1][1]:
        raise UsageError(f"--out and --plot are the same file ({args.out}); give them different names.")


def _replace_atomically(path: str, write) -> None:
    """Write through a temporary file in the same folder, then rename: never a half-written file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.",
                               suffix=target.suffix)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _cell(value: Any) -> Any:
    """A CSV cell: floats to 12 significant digits, so float64 arithmetic noise
    (a set point 2 - 1.95 k / 200 logged as 0.5375000000000001) is not written;
    float32 values in their own shortest form (0.1, not 0.10000000149)."""
    if isinstance(value, np.float32):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.12g}"
    return value


def _write_csv(path: str, columns: Mapping[str, Sequence[Any]]) -> None:
    def write(tmp):
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns.keys())
            writer.writerows([_cell(v) for v in row] for row in zip(*columns.values()))

    _replace_atomically(path, write)


def _save_figure(fig, path: str) -> None:
    _replace_atomically(path, lambda tmp: fig.savefig(tmp, dpi=150))


def _add_trajectory_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("trajectory", nargs="?", help="trajectory file (default: the bundled example)")
    p.add_argument("--topology", help="topology file, for formats that need one (e.g. DCD)")
    p.add_argument("--format", help="trajectory format, if MDAnalysis cannot tell from the extension")
    p.add_argument("--a-type", default="A", help="type name of the large particles (default A; LAMMPS files usually need 1)")
    p.add_argument("--b-type", default="B", help="type name of the small particles (default B; LAMMPS files usually need 2)")
    p.add_argument("--start", type=int, default=None, help="first frame")
    p.add_argument("--stop", type=int, default=None, help="frame to stop before")
    p.add_argument("--step", type=int, default=None, help="analyse every STEP-th frame")
    p.add_argument("--backend", choices=("serial", "multiprocessing", "dask"), default="serial",
                   help="how to run over frames (default serial, with a progress bar)")
    p.add_argument("--workers", type=int, default=None, help="processes for parallel backends (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mda-glassml", description="Structure metrics, simulations and classifiers for 2D glass formers (mda_glassml)."
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"mda-glassml {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    k = sub.add_parser("classify", help="P(glass) per frame, with the B-neighbor metrics",
                       description="Classify every frame of a 2D trajectory as glass or liquid with a trained "
                                   "model (default: the shipped D-MPNN), with the three B-neighbor metrics.")
    _add_trajectory_args(k)
    k.add_argument("--model", default="ka2d-dmpnn",
                   help="ka2d-dmpnn (default), ka2d-cnn, ka2d-dmpnn-paper, ka2d-cnn-paper (the paper's task), "
                        "or a model bundle (model.pt from mda-glassml train)")
    k.add_argument("--window", type=float, default=None,
                   help="D-MPNN: P(glass) as the mean over sliding windows of this side (length units) instead of "
                        "whole frames; the B-neighbor columns stay whole-frame (mda-glassml metrics --window for those)")
    k.add_argument("--device", default="cpu",
                   help="cpu (default), cuda (a CUDA GPU; an error if there is none) or auto (the GPU if any)")
    k.add_argument("--compile", action="store_true",
                   help="run the model through torch.compile: same results, 1.1-1.3x faster on frames of "
                        "10^5-10^6 particles; the first frame compiles it (5-30 s; needs a C++ compiler)")
    k.add_argument("--inherent", action="store_true",
                   help="classify each frame's inherent structure: FIRE-minimise it with the Kob-Andersen potential "
                        "first, so that thermal vibration cannot decide; 15-60 s per 4320-particle frame (use --step). "
                        "The B-neighbor columns stay those of the frames as recorded")
    k.add_argument("--engine", default="lammps", choices=("lammps", "hoomd"),
                   help="--inherent: the minimiser's engine (default lammps)")
    k.add_argument("--view", default="auto", choices=("auto", "thermal", "inherent"),
                   help="which of the model's two calibrations to apply: auto (default) tells thermal frames from "
                        "inherent structures by their forces; thermal or inherent forces one")
    k.add_argument("--out", help="CSV file for the per-frame table")
    k.add_argument("--plot", help="image file of P(glass) and the metrics against frame or temperature")

    m = sub.add_parser("metrics", help="B-neighbor metrics per frame",
                       description="B-neighbor metrics (Swanson et al. 2020) for every frame of a 2D trajectory.")
    _add_trajectory_args(m)
    m.add_argument("--k", type=int, default=2, help="nearest neighbours (default 2, as in the paper)")
    m.add_argument("--definition", choices=("symmetric", "directed"), default="symmetric",
                   help="graph definition (default symmetric: the original code's)")
    m.add_argument("--window", type=float, default=None, help="side of a square window to analyse (length units)")
    m.add_argument("--out", help="CSV file for the per-frame table")
    m.add_argument("--plot", help="image file (PNG, PDF, SVG) of the metrics against frame or temperature")

    r = sub.add_parser("rdf", help="partial RDFs averaged over frames",
                       description="AA, AB, BB and total g(r) of a 2D binary mixture, averaged over frames.")
    _add_trajectory_args(r)
    r.add_argument("--r-max", type=float, default=5.0, help="largest distance (default 5)")
    r.add_argument("--bins", type=int, default=250, help="number of bins (default 250)")
    r.add_argument("--out", help="CSV file: r and g(r) of each pair")
    r.add_argument("--plot", help="image file of g(r)")

    s = sub.add_parser("simulate", help="run a campaign of independent cooling runs (or equilibrium liquids)",
                       description="Independent runs of the paper's 2D Kob-Andersen protocol on dask, restartable: "
                                   "rerunning the same command skips complete runs and redoes damaged ones.")
    s.add_argument("--out", required=True, help="campaign folder (created; must hold this same campaign if it exists)")
    s.add_argument("--n-trajectories", type=int, required=True, help="independent runs wanted in the folder")
    s.add_argument("--engine", default="lammps", help="lammps (CPU) or hoomd (HOOMD-blue, GPU by default)")
    s.add_argument("--device", default="auto",
                   help="hoomd only: auto (a GPU if there is one, else the CPU with a warning), gpu (an error "
                        "where there is none) or cpu (default auto)")
    s.add_argument("--steps", type=int, default=None,
                   help="cooling steps from T = 2 to 0.05 (default 200000, the paper's fast rate; slow: 20000000)")
    s.add_argument("--particles", type=int, default=4320, help="particles (default 4320)")
    s.add_argument("--density", type=float, default=1.2, help="number density (default 1.2)")
    s.add_argument("--records", default=None,
                   help="records to keep: a preset (datasets, tg, all) or comma-separated indices k of 0..200 "
                        "(default: datasets = 1,25,107,149,160,200; hold runs: all)")
    s.add_argument("--seed", type=int, default=1, help="campaign seed; each run's seed derives from it (default 1)")
    s.add_argument("--workers", type=int, default=None,
                   help="local dask worker processes, one thread each (default 1; not with --scheduler)")
    s.add_argument("--scheduler", default=None, help="address of a running dask scheduler to use instead")
    s.add_argument("--hold-temperature", type=float, default=None,
                   help="make equilibrium liquids instead: melt at T = 2, quench to this T and hold")
    s.add_argument("--hold-steps", type=int, default=None, help="steps held at --hold-temperature (default 300000)")
    s.add_argument("--hold-records", type=int, default=1, help="records spread over the hold, last at its end (default 1)")
    s.add_argument("--melt-steps", type=int, default=10_000, help="steps at T = 2 before the quench (default 10000)")
    s.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    b = sub.add_parser("build-datasets", help="the paper's six labelled datasets from campaign folders",
                       description="Manifests (CSV: file, frame, label, temperature, is_energy, trajectory) of "
                                   "datasets 1-6, thermal and inherent structures. Dataset 6 is built only if its "
                                   "liquids and glasses have the same mean IS energy within errors.")
    b.add_argument("--out", required=True, help="folder for the manifests")
    b.add_argument("--cooling", help="cooling campaign (records 1,25,107,149,160,200): datasets 1-5")
    b.add_argument("--liquids", action="append",
                   help="equilibrium-liquid campaign (simulate --hold-temperature): dataset 6's liquids; with "
                        "--by-tg, repeat it for liquids at several temperatures")
    b.add_argument("--glasses", help="cooling campaign for dataset 6's glasses (default: --cooling)")
    b.add_argument("--datasets", default=None, help="comma-separated subset of 1-6 (default: all that the inputs allow)")
    b.add_argument("--sigmas", type=float, default=2.0,
                   help="dataset 6 needs |mean liquid - mean glass| <= SIGMAS combined standard errors (default 2)")
    b.add_argument("--by-tg", action="store_true",
                   help="label every record by the physics instead: glass below Tg - DELTA, liquid above Tg + DELTA "
                        "(Tg fitted on the cooling campaign's own IS energies); writes tg_thermal.csv, "
                        "tg_thermal_is.csv and the band's tg_band.csv")
    b.add_argument("--delta", type=float, default=0.05, help="--by-tg: half-width of the band left out (default 0.05)")
    b.add_argument("--tg", type=float, default=None, help="--by-tg: use this Tg instead of fitting it")
    b.add_argument("--quiet", action="store_true")

    t = sub.add_parser("train", help="train a classifier on a labelled dataset",
                       description="Train a classifier on a dataset manifest (build-datasets), split by trajectory "
                                   "into train/validation/test; resumes from OUT/checkpoint.pt if it exists.")
    _add_training_args(t)
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

    c = sub.add_parser("crossval", help="nested cross-validation with hyperopt TPE",
                       description="The paper's nested cross-validation: 3 grouped outer folds, TPE over Table 2's "
                                   "space on an inner split, selection on validation only. Resumable.")
    _add_training_args(c)
    c.add_argument("--evals", type=int, default=15, help="TPE evaluations per fold (default 15)")
    c.add_argument("--epochs", type=int, default=10, help="epochs per evaluation (default 10)")
    c.add_argument("--final-epochs", type=int, default=None, help="epochs of the retrained model (default --epochs)")
    c.add_argument("--folds", type=int, default=3, help="outer folds (default 3)")
    c.add_argument("--space", default=None,
                   help='JSON overriding parts of the search space (Table 2), e.g. '
                        '\'{"hidden": [300, 1200, 100], "window": 0.2}\': [low, high, step] or a fixed value; '
                        'window is a fraction of the paper\'s box side 60, as in Table 2 (0.2: side 12, '
                        'train\'s --window 12)')
    c.add_argument("--readout", choices=("mean", "sum"), default=None,
                   help="D-MPNN graph readout (default mean on windows; sum is the paper's)")
    c.add_argument("--workers", type=int, default=None,
                   help="run the folds on this many local dask workers (default 1; not with --scheduler)")
    c.add_argument("--scheduler", default=None, help="address of a running dask scheduler to use instead")
    rp = sub.add_parser("reproduce", help="the paper's experiments end to end, with a report",
                        description="Run the paper's experiments (campaigns, Tg, datasets, metrics around Tg, RDFs) "
                                    "and write OUT/report.md and OUT/results.json. Restartable: run the same command "
                                    "again to continue; finished steps are kept.")
    rp.add_argument("--preset", default="cpu", help="smoke (CI), cpu (a 2-core machine, default) or paper")
    rp.add_argument("--out", default=None, help="output folder (default: repro-PRESET)")
    rp.add_argument("--workers", type=int, default=None,
                    help="local worker processes for the campaigns (default 1; not with --scheduler)")
    rp.add_argument("--scheduler", default=None, help="address of a running dask scheduler (instead of --workers)")
    rp.add_argument("--engine", choices=("lammps", "hoomd"), default="lammps", help="MD engine (default lammps)")
    rp.add_argument("--device", choices=("auto", "gpu", "cpu"), default="auto",
                    help="HOOMD-blue's device for the campaigns (default auto)")
    rp.add_argument("--train-device", default="cpu",
                    help="torch's device for the training steps: cpu (default), cuda (an error if there is none) "
                         "or auto")
    rp.add_argument("--dry-run", action="store_true", help="print the plan and its estimated cost; run nothing")
    rp.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _add_training_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--manifest", required=True, help="dataset manifest (CSV from build-datasets)")
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--model", default="dmpnn", choices=("dmpnn", "cnn"),
                   help="dmpnn (graph network, default) or cnn (images of whole configurations)")
    p.add_argument("--featurization", default="invariant", choices=("invariant", "paper"),
                   help="D-MPNN node/edge features (default invariant)")
    p.add_argument("--variant", default="compact", choices=("compact", "paper"),
                   help="CNN architecture (default compact, under 1 M weights; paper: 72 M)")
    p.add_argument("--image-size", type=int, default=250, help="CNN image side in pixels (default 250)")
    p.add_argument("--a-type", default="A", help="type name of the large particles (default A)")
    p.add_argument("--b-type", default="B", help="type name of the small particles (default B)")
    p.add_argument("--seed", type=int, default=0, help="seed of splits, windows and weights (default 0)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu; cuda for a GPU)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _int_list(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{what} must be comma-separated integers, got {text!r}") from None


def _local_workers(args) -> int:
    """--workers for local dask workers (default 1); refused beside --scheduler, whose cluster has its own."""
    if args.scheduler is not None and args.workers is not None:
        raise UsageError(f"--workers {args.workers} with --scheduler: the cluster's workers run the work; give one "
                         "of the two")
    workers = 1 if args.workers is None else args.workers
    if workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {workers}")
    return workers


def _simulate(args) -> None:
    from .simulation.campaign import ENGINES, parse_records, run_campaign
    from .simulation.protocol import make_protocol

    if args.engine not in ENGINES:
        raise UsageError(f"unknown engine {args.engine!r}; choose one of {', '.join(ENGINES)}")
    protocol = make_protocol(args.particles, args.density, args.steps, args.hold_temperature, args.hold_steps,
                             args.melt_steps, args.hold_records)
    records = parse_records(args.records, protocol)
    try:
        report = run_campaign(args.out, protocol, args.n_trajectories, engine=args.engine, records=records,
                              campaign_seed=args.seed, n_workers=_local_workers(args), scheduler=args.scheduler,
                              progress=not args.quiet, device=args.device)
    except RuntimeError as err:  # failed runs: the message lists them; complete runs are kept
        print(f"mda-glassml simulate: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    if not args.quiet:
        print(report.summary())


def _build_datasets(args) -> None:
    from .simulation.datasets import build_datasets, build_tg_datasets

    if args.by_tg:
        if not args.cooling or args.glasses or args.datasets:
            raise UsageError("--by-tg needs --cooling (and optionally --liquids); --glasses and --datasets "
                             "belong to the paper's datasets")
        summary = build_tg_datasets(args.out, cooling=args.cooling, liquids=args.liquids or (), delta=args.delta,
                                    tg=args.tg)
        if not args.quiet:
            err = f" +- {summary['tg_err']:.3f}" if summary["tg_err"] is not None else " (given)"
            print(f"Tg = {summary['tg']:.3f}{err}; glass below {summary['glass_below']:.3f}, liquid above "
                  f"{summary['liquid_above']:.3f}: {summary['n_glass']} glasses, {summary['n_liquid']} liquids, "
                  f"{summary['n_band']} in the band (left out), {summary['n_trajectories']} trajectories")
            print(f"wrote tg_*.csv and tg_datasets.json to {args.out}", file=sys.stderr)
        return
    if args.liquids and len(args.liquids) > 1:
        raise UsageError("the paper's dataset 6 takes one --liquids campaign (several only with --by-tg)")
    args.liquids = args.liquids[0] if args.liquids else None
    datasets = _int_list(args.datasets, "--datasets") if args.datasets else None
    summary = build_datasets(args.out, cooling=args.cooling, liquids=args.liquids, glasses=args.glasses,
                             datasets=datasets, sigmas=args.sigmas)
    if not args.quiet:
        for name, d in summary["datasets"].items():
            print(f"{name:12s} {d['n_liquid']:4d} liquids (T = {d['liquid_temperature']:.3f}, IS "
                  f"{d['mean_is_energy_liquid']:.4f})  {d['n_glass']:4d} glasses (IS {d['mean_is_energy_glass']:.4f})")
        if "dataset6_energy_match" in summary:
            print("dataset 6 energy match: " + summary["dataset6_energy_match"]["text"])
        print(f"wrote manifests and datasets.json to {args.out}", file=sys.stderr)


def _check_folder(path: str) -> None:
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {path} is a file; give a folder.")
    # the folder and any missing parents are created: the nearest existing one must be writable
    existing = target.absolute()
    while not existing.exists():
        existing = existing.parent
    if not target.exists() and not (existing.is_dir() and os.access(existing, os.W_OK)):
        raise UsageError(f"cannot create --out {path}: {existing} is not a writable folder.")


def _train(args) -> None:
    from .plots import training_figure
    from .training.data import LabelledFrames
    from .training.loop import TrainConfig
    from .training.pipeline import train_model

    _check_folder(args.out)
    plot = args.plot or str(Path(args.out) / "training.png")
    if args.plot:
        _check_output(args.plot, "plot")
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
    _save_figure(training_figure(card["training"]["history"], title=f"{args.model} on {Path(args.manifest).name}"),
                 plot)
    if "calibration" in card:
        from .training.calibration import Calibration

        cal = card["calibration"]
        _save_figure(Calibration(**cal["test_reliability"]).figure(
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
    from .training.data import PAPER_BOX_SIDE

    if not side > 0:
        raise UsageError(f"--window must be a positive length, got {side}.")
    if side <= 1:
        # Before, --window was a fraction of 60; a window of side <= 1 holds about one particle.
        raise UsageError(
            f"--window {side:g} looks like the old fraction of the paper's box side: --window is now a length "
            f"(length units), as for classify --window; use --window {side * PAPER_BOX_SIDE:g} for the same windows.")
    return side / PAPER_BOX_SIDE


def _crossval(args) -> None:
    from .training.crossval import CNN_SPACE, PAPER_SPACE, nested_cv
    from .training.data import LabelledFrames
    from .training.loop import TrainConfig
    from .training.pipeline import BUILDERS

    _check_folder(args.out)
    data = LabelledFrames.from_manifest(args.manifest, args.a_type, args.b_type)
    config = TrainConfig(seed=args.seed, device=args.device, progress=not args.quiet)
    builder = BUILDERS[args.model]
    default_space = PAPER_SPACE if args.model == "dmpnn" else CNN_SPACE
    space = dict(default_space)
    if args.space:
        try:
            overrides = json.loads(args.space)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--space is not valid JSON ({exc}).") from None
        unknown = set(overrides) - set(default_space)
        if unknown:
            raise UsageError(f"--space names unknown hyperparameters {sorted(unknown)}; known: {sorted(default_space)}.")
        space.update({k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})
    import functools

    if args.model == "dmpnn":
        builder = functools.partial(builder, mode=args.featurization,
                                    **({"readout": args.readout} if args.readout else {}))
    else:
        builder = functools.partial(builder, variant=args.variant, image_size=args.image_size)
    result = nested_cv(data, builder=builder, space=space, n_evals=args.evals, epochs=args.epochs, final_epochs=args.final_epochs,
                       n_folds=args.folds, config=config, out_dir=args.out, n_workers=_local_workers(args),
                       scheduler=args.scheduler)
    print(result.summary())
    if not args.quiet:
        print(f"wrote {Path(args.out) / 'crossval.json'}", file=sys.stderr)


def _universe(args) -> Any:
    from .trajectory import open_universe

    if args.trajectory is None:
        from .data import EXAMPLE_TRAJECTORY

        given = [f"--{name}" for name in ("topology", "format") if getattr(args, name, None)]
        if given:
            raise UsageError(f"{' and '.join(given)} without a trajectory: name the trajectory file too "
                             f"(mda-glassml {args.command} TRAJECTORY {given[0]} ...).")

        if not args.quiet:
            print(f"No trajectory given: using the bundled example {EXAMPLE_TRAJECTORY}\n"
                  "(2D Kob-Andersen, 4320 particles, cooled from T = 2.0 to 0.05).", file=sys.stderr)
        return open_universe(EXAMPLE_TRAJECTORY)
    return open_universe(args.trajectory, args.topology, args.format)


def _check_cheap(args) -> None:
    """What can be told wrong from the command line alone fails before torch, the trajectory and the model load
    (seconds)."""
    from .frames import check_type_pair

    _check_backend(args)
    check_type_pair(args.a_type, args.b_type)
    if getattr(args, "model", None) is not None:
        from .models.pretrained import model_path

        model_path(args.model)  # an unknown name lists the shipped ones


def _check_backend(args) -> None:
    """Fail before the trajectory and the model load (seconds) if --workers cannot be used."""
    if args.workers is None:
        return
    if args.backend == "serial":
        raise UsageError(f"--workers {args.workers} needs a parallel backend: add --backend multiprocessing "
                         "(or dask); the serial backend runs in this process.")
    if args.workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {args.workers}")


def _run(analysis, args):
    parallel = args.backend != "serial"
    return analysis.run(
        start=args.start, stop=args.stop, step=args.step, backend=args.backend,
        n_workers=(args.workers if args.workers is not None else os.cpu_count()) if parallel else None,
        verbose=not (args.quiet or parallel),
    )


def _metrics(args) -> None:
    from .analysis import BNeighborMetrics
    from .plots import metrics_figure
    from .trajectory import logged_temperature

    u = _universe(args)
    analysis = BNeighborMetrics(u.atoms, k=args.k, a_type=args.a_type, b_type=args.b_type,
                                definition=args.definition, window=args.window)
    res = _run(analysis, args).results
    columns: dict[str, Any] = {"frame": res.frames, "time": res.times}
    temperature = logged_temperature(u)
    if temperature is not None:
        columns["temperature"] = temperature[res.frames]
    for key in BNeighborMetrics._per_frame:
        columns[key] = res[key]
    if args.out:
        _write_csv(args.out, columns)
    if args.plot:
        x = "temperature" if temperature is not None and np.isfinite(columns["temperature"]).all() else "frame"
        title = f"B-neighbor metrics (k = {args.k}, {args.definition})"
        _save_figure(metrics_figure(columns, x=x, title=title), args.plot)
    if not args.quiet:
        _print_table(columns, ["frame"] + (["temperature"] if temperature is not None else [])
                     + ["n_components", "n_bb_edges", "n_isolated_a"])
        for path in (args.out, args.plot):
            if path:
                print(f"wrote {path}", file=sys.stderr)


def _classify(args) -> None:
    from .analysis import BNeighborMetrics, GlassClassifier
    from .plots import classification_figure
    from .trajectory import logged_temperature

    u = _universe(args)
    # Build both analyses first: a bad model, type or window fails before any frame is read.
    clf = GlassClassifier(u.atoms, model=args.model, a_type=args.a_type, b_type=args.b_type, window=args.window,
                          device=args.device, inherent=args.engine if args.inherent else None,
                          compile=args.compile, view=args.view)
    metrics = BNeighborMetrics(u.atoms, a_type=args.a_type, b_type=args.b_type)
    res = _run(clf, args).results
    met = _run(metrics, args).results
    columns: dict[str, Any] = {"frame": res.frames, "time": res.times}
    temperature = logged_temperature(u)
    if temperature is not None:
        columns["temperature"] = temperature[res.frames]
    columns["p_glass"] = res.probability
    for key in ("n_components", "n_bb_edges", "n_isolated_a"):
        columns[key] = met[key]
    crossing = None
    logged = np.isfinite(columns["temperature"]) if temperature is not None else None
    # frames that log no temperature (NaN) are left out of the crossing, not an error after the table
    if logged is not None and np.unique(columns["temperature"][logged]).size >= 3:
        from .classify import crossing_temperature

        crossing = crossing_temperature(columns["temperature"][logged], columns["p_glass"][logged])
    if args.out:
        _write_csv(args.out, columns)
    if args.plot:
        x = "temperature" if logged is not None and logged.all() else "frame"
        at = crossing.temperature if crossing is not None and crossing.reason is None and x == "temperature" else None
        _save_figure(classification_figure(columns, x=x, title=f"{args.model}: P(glass) and B-neighbor metrics",
                                           crossing=at), args.plot)
    if not args.quiet:
        _print_table(columns, ["frame"] + (["temperature"] if temperature is not None else [])
                     + ["p_glass", "n_components", "n_bb_edges", "n_isolated_a"])
        if crossing is not None:
            print(f"P(glass) crosses 0.5 at T = {crossing.temperature:.3f} (logistic width {crossing.width:.3f})"
                  if crossing.reason is None else crossing.reason)
        for path in (args.out, args.plot):
            if path:
                print(f"wrote {path}", file=sys.stderr)


def _rdf(args) -> None:
    from .analysis import PartialRDF
    from .plots import rdf_figure
    from .rdf import PAIRS

    u = _universe(args)
    analysis = PartialRDF(u.atoms, a_type=args.a_type, b_type=args.b_type, r_max=args.r_max, n_bins=args.bins)
    res = _run(analysis, args).results
    columns = {"r": res.bins, **{f"g_{pair}": res.rdf[pair] for pair in PAIRS}}
    if args.out:
        _write_csv(args.out, columns)
    if args.plot:
        _save_figure(rdf_figure(res.bins, res.rdf, (args.a_type, args.b_type)), args.plot)
    if not args.quiet:
        peak = int(np.argmax(res.rdf["AA"]))
        print(f"{len(res.frames)} frames; first A-A peak g = {res.rdf['AA'][peak]:.3f} at r = {res.bins[peak]:.3f}")
        for path in (args.out, args.plot):
            if path:
                print(f"wrote {path}", file=sys.stderr)


def _reproduce(args) -> None:
    from .reproduce.pipeline import Reproduction
    from .reproduce.presets import get_preset

    preset = get_preset(args.preset)
    rep = Reproduction(preset, args.out or f"repro-{preset.name}", engine=args.engine, n_workers=_local_workers(args),
                       scheduler=args.scheduler, device=args.device, progress=not args.quiet,
                       train_device=args.train_device)
    if args.dry_run:
        print(rep.describe_plan())
        return
    rep.run()
    if not args.quiet:
        print(f"wrote {rep.out / 'report.md'} and {rep.out / 'results.json'}", file=sys.stderr)


def _print_table(columns: Mapping[str, Sequence[Any]], keys: list[str]) -> None:
    print("  ".join(f"{k:>12}" for k in keys))
    for row in zip(*(columns[k] for k in keys)):
        print("  ".join(f"{v:>12.4g}" if isinstance(v, float) else f"{v:>12}" for v in row))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mda-glassml``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command in ("metrics", "rdf", "classify"):  # their --out is a file; simulate's a folder
            for kind in ("out", "plot"):
                _check_output(getattr(args, kind, None), kind)
            _check_collisions(args)
            _check_cheap(args)
        with warnings.catch_warnings():
            # GSD and LAMMPS dumps carry no time step; MDAnalysis warns on every run.
            warnings.filterwarnings("ignore", message="Reader has no dt information")
            # Nothing here uses masses; MDAnalysis guesses them for LAMMPS dumps and says so.
            warnings.filterwarnings("ignore", message="Guessed all Masses")
            warnings.filterwarnings("ignore", message="Unknown masses are set to 0.0")
            # MDAnalysis' note on its DCD reader's internals (nothing here depends on them)
            warnings.filterwarnings("ignore", message="DCDReader currently makes independent timesteps")
            from .errors import GlassMLWarning
            from .frames import DensityWarning

            warnings.simplefilter("always", DensityWarning)
            show = warnings.showwarning

            def _show(message, category, filename, *rest, **kw):
                # this package's warnings speak to the user: one line, no source line; a library's keep theirs
                if issubclass(category, GlassMLWarning):
                    print(f"mda-glassml {args.command}: warning: {message}", file=sys.stderr)
                else:
                    show(message, category, filename, *rest, **kw)

            warnings.showwarning = _show
            {"classify": _classify, "metrics": _metrics, "rdf": _rdf, "simulate": _simulate,
             "build-datasets": _build_datasets, "train": _train, "crossval": _crossval,
             "reproduce": _reproduce}[args.command](args)
    except (InputError, FileNotFoundError) as err:
        print(f"mda-glassml {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # One line, not the tracebacks of every thread and worker; say what was kept.
        kept = {"simulate": "; finished runs are kept: run the same command to go on.",
                "train": "; the last checkpoint is kept: run the same command to go on.",
                "crossval": "; finished trials are kept: run the same command to go on.",
                "reproduce": "; finished steps and runs are kept: run the same command to go on.",
                "metrics": "; nothing was written.", "rdf": "; nothing was written.",
                "classify": "; nothing was written."}.get(args.command, ".")
        print(f"mda-glassml {args.command}: interrupted{kept}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
