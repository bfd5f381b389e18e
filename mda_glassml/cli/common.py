"""What the subcommands share: usage errors, checked and atomic outputs, the trajectory
subcommands' options and their run over frames."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError



class UsageError(InputError):
    """A problem with the command line itself."""


def check_output(path: str | None, kind: str) -> None:
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


def check_collisions(args) -> None:
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


def replace_atomically(path: str, write) -> None:
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


def cell(value: Any) -> Any:
    """A CSV cell: floats to 12 significant digits, so float64 arithmetic noise
    (a set point 2 - 1.95 k / 200 logged as 0.5375000000000001) is not written;
    float32 values in their own shortest form (0.1, not 0.10000000149)."""
    if isinstance(value, np.float32):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.12g}"
    return value


def write_csv(path: str, columns: Mapping[str, Sequence[Any]]) -> None:
    def write(tmp):
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns.keys())
            writer.writerows([cell(v) for v in row] for row in zip(*columns.values()))

    replace_atomically(path, write)


def save_figure(fig, path: str) -> None:
    replace_atomically(path, lambda tmp: fig.savefig(tmp, dpi=150))


def add_trajectory_args(p: argparse.ArgumentParser) -> None:
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


def add_training_args(p: argparse.ArgumentParser) -> None:
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


def int_list(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{what} must be comma-separated integers, got {text!r}") from None


def local_workers(args) -> int:
    """--workers for local dask workers (default 1); refused beside --scheduler, whose cluster has its own."""
    if args.scheduler is not None and args.workers is not None:
        raise UsageError(f"--workers {args.workers} with --scheduler: the cluster's workers run the work; give one "
                         "of the two")
    workers = 1 if args.workers is None else args.workers
    if workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {workers}")
    return workers


def check_folder(path: str) -> None:
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {path} is a file; give a folder.")
    # the folder and any missing parents are created: the nearest existing one must be writable
    existing = target.absolute()
    while not existing.exists():
        existing = existing.parent
    if not target.exists() and not (existing.is_dir() and os.access(existing, os.W_OK)):
        raise UsageError(f"cannot create --out {path}: {existing} is not a writable folder.")


def universe(args) -> Any:
    from ..trajectory import open_universe

    if args.trajectory is None:
        from ..data import EXAMPLE_TRAJECTORY

        given = [f"--{name}" for name in ("topology", "format") if getattr(args, name, None)]
        if given:
            raise UsageError(f"{' and '.join(given)} without a trajectory: name the trajectory file too "
                             f"(mda-glassml {args.command} TRAJECTORY {given[0]} ...).")

        if not args.quiet:
            print(f"No trajectory given: using the bundled example {EXAMPLE_TRAJECTORY}\n"
                  "(2D Kob-Andersen, 4320 particles, cooled from T = 2.0 to 0.05).", file=sys.stderr)
        return open_universe(EXAMPLE_TRAJECTORY)
    return open_universe(args.trajectory, args.topology, args.format)


def check_cheap(args) -> None:
    """What can be told wrong from the command line alone fails before torch, the trajectory and the model load
    (seconds)."""
    from ..frames import check_type_pair

    check_backend(args)
    check_type_pair(args.a_type, args.b_type)
    if getattr(args, "model", None) is not None:
        from ..models.pretrained import model_path

        model_path(args.model)  # an unknown name lists the shipped ones


def check_backend(args) -> None:
    """Fail before the trajectory and the model load (seconds) if --workers cannot be used."""
    if args.workers is None:
        return
    if args.backend == "serial":
        raise UsageError(f"--workers {args.workers} needs a parallel backend: add --backend multiprocessing "
                         "(or dask); the serial backend runs in this process.")
    if args.workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {args.workers}")


def run_analysis(analysis, args):
    parallel = args.backend != "serial"
    return analysis.run(
        start=args.start, stop=args.stop, step=args.step, backend=args.backend,
        n_workers=(args.workers if args.workers is not None else os.cpu_count()) if parallel else None,
        verbose=not (args.quiet or parallel),
    )


def print_table(columns: Mapping[str, Sequence[Any]], keys: list[str]) -> None:
    print("  ".join(f"{k:>12}" for k in keys))
    for row in zip(*(columns[k] for k in keys)):
        print("  ".join(f"{v:>12.4g}" if isinstance(v, float) else f"{v:>12}" for v in row))
