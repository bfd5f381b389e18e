"""Moved to :mod:`mda_glassml.training.recipes` on 2026-12-08 (a training recipe belongs with training).

Run ``python -m mda_glassml.training.recipes`` with the same options; model
cards made before that date name this module in their remake commands.
"""

import sys

_MOVED = ("mda_glassml.models.make_pretrained moved to mda_glassml.training.recipes on 2026-12-08: run "
          "python -m mda_glassml.training.recipes with the same options (or import from it)")


#: What the old module offered (``mda_glassml.training.recipes.__all__``): asking for one of them says where it went.
_NAMES = {"main", "heldout_report", "HELDOUT_GSD", "HELDOUT_MANIFEST", "HELDOUT_PAPER_GSD", "HELDOUT_PAPER_MANIFEST",
          "heldout_files", "heldout_sets", "score_on_heldout", "baseline_scores", "is_energy_baseline",
          "heldout_trajectories"}


def __getattr__(name: str):
    if name in _NAMES:
        raise ImportError(f"{_MOVED}; {name!r} is there.")
    raise AttributeError(name)  # anything else (pytest's and the import machinery's probes): not here


if __name__ == "__main__":
    sys.exit(_MOVED)
