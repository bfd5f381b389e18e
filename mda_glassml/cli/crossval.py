"""``mda-glassml crossval``: nested cross-validation with hyperopt's TPE, resumable."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

from .common import UsageError, add_training_args, check_folder, local_workers


#: What Ctrl-C leaves behind, said after "interrupted".
INTERRUPTED = '; finished trials are kept: run the same command to go on.'


def add_parser(sub) -> None:
    c = sub.add_parser("crossval", help="nested cross-validation with hyperopt TPE",
                       description="The paper's nested cross-validation: 3 grouped outer folds, TPE over Table 2's "
                                   "space on an inner split, selection on validation only. Resumable.")
    add_training_args(c)
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


def run(args) -> None:
    from ..training.crossval import CNN_SPACE, PAPER_SPACE, nested_cv
    from ..training.data import LabelledFrames
    from ..training.loop import TrainConfig
    from ..training.pipeline import BUILDERS

    check_folder(args.out)
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
    if args.model == "dmpnn":
        builder = functools.partial(builder, mode=args.featurization,
                                    **({"readout": args.readout} if args.readout else {}))
    else:
        builder = functools.partial(builder, variant=args.variant, image_size=args.image_size)
    result = nested_cv(data, builder=builder, space=space, n_evals=args.evals, epochs=args.epochs, final_epochs=args.final_epochs,
                       n_folds=args.folds, config=config, out_dir=args.out, n_workers=local_workers(args),
                       scheduler=args.scheduler)
    print(result.summary())
    if not args.quiet:
        print(f"wrote {Path(args.out) / 'crossval.json'}", file=sys.stderr)
