"""The ``mda-glassml`` command.

Subcommands adapt the command line to the analyses and hold no science; each
is one module of this package (``add_parser`` and ``run``), :mod:`.common`
holds what they share:

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
import os
import sys
import warnings
from contextlib import contextmanager
from typing import Iterator, Sequence

from ..errors import InputError
from . import build_datasets, classify, crossval, metrics, rdf, reproduce, simulate, train
from .common import check_cheap, check_collisions, check_output

__all__ = ["main"]

#: The subcommands, in the order ``--help`` lists them.
COMMANDS = {"classify": classify, "metrics": metrics, "rdf": rdf, "simulate": simulate,
            "build-datasets": build_datasets, "train": train, "crossval": crossval, "reproduce": reproduce}


#: MDAnalysis' notes that say nothing to a user of this command.
_SILENCED = (
    "Reader has no dt information",  # GSD and LAMMPS dumps carry no time step; MDAnalysis warns on every run
    "Guessed all Masses",  # nothing here uses masses; MDAnalysis guesses them for LAMMPS dumps and says so
    "Unknown masses are set to 0.0",
    "DCDReader currently makes independent timesteps",  # its DCD reader's internals (nothing here depends on them)
)


@contextmanager
def _quiet_workers() -> Iterator[None]:
    """The same filters for worker processes started fresh (dask's): they read theirs from the environment."""
    before = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(([before] if before else []) + [f"ignore:{m}" for m in _SILENCED])
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = before


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mda-glassml", description="Structure metrics, simulations and classifiers for 2D glass formers (mda_glassml)."
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"mda-glassml {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mda-glassml``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command in ("metrics", "rdf", "classify"):  # their --out is a file; simulate's a folder
            for kind in ("out", "plot"):
                check_output(getattr(args, kind, None), kind)
            check_collisions(args)
            check_cheap(args)
        with warnings.catch_warnings(), _quiet_workers():
            for message in _SILENCED:
                warnings.filterwarnings("ignore", message=message)
            from ..errors import GlassMLWarning
            from ..frames import DensityWarning

            warnings.simplefilter("always", DensityWarning)
            show = warnings.showwarning

            def _show(message, category, filename, *rest, **kw):
                # this package's warnings speak to the user: one line, no source line; a library's keep theirs
                if issubclass(category, GlassMLWarning):
                    print(f"mda-glassml {args.command}: warning: {message}", file=sys.stderr)
                else:
                    show(message, category, filename, *rest, **kw)

            warnings.showwarning = _show
            COMMANDS[args.command].run(args)
    except (InputError, FileNotFoundError) as err:
        print(f"mda-glassml {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # One line, not the tracebacks of every thread and worker; say what was kept.
        kept = getattr(COMMANDS[args.command], "INTERRUPTED", ".")
        print(f"mda-glassml {args.command}: interrupted{kept}", file=sys.stderr)
        return 130
    return 0
