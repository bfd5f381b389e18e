"""Wall time per step of a finished reproduction, and the campaigns' overhead over bare engine runs.

Usage::

    python benchmarks/bench_reproduce.py repro-cpu

Reads ``OUT/steps/*.json`` (each step's wall time) and each campaign run's
completion record (``traj_NNNN.json``: the engine's own wall time for that
run). The overhead is the campaign step's wall time times its workers (as
the folder records them; ``--workers`` for folders that do not), over
the sum of the runs' engine times, minus 1 (scheduling, process start-up,
file checks). One run's numbers, on a machine that may be busy: read them as
ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(out: Path, workers: int | None) -> None:
    if not (out / "steps").is_dir():
        sys.exit(f"bench_reproduce: {out} is not a reproduction folder (no steps/): give the --out of "
                 "mda-glassml reproduce.")
    steps = {p.stem: json.loads(p.read_text()) for p in sorted((out / "steps").glob("*.json"))}
    order = [s for s in json.loads((out / "results.json").read_text())["steps"]] if (out / "results.json").is_file() \
        else list(steps)
    times = {s: steps[s]["wall_time_s"] for s in order if s in steps}
    total = sum(times.values())
    print(f"{'step':<16}{'wall time (s)':>15}{'share':>9}")
    for s, t in times.items():
        print(f"{s:<16}{t:>15.1f}{t / total:>9.1%}")
    print(f"{'total':<16}{total:>15.1f}")
    campaigns = steps.get("campaigns", {})
    recorded = campaigns.get("workers")
    if workers is None:
        workers = recorded
    elif recorded is not None and workers != recorded:
        print(f"note: the campaigns ran with {recorded} workers, not the {workers} given; using {workers}")
    # Only campaigns run whole within the step compare (a resumed one ran part of its runs elsewhere).
    for name, c in campaigns.get("campaigns", {}).items():
        if workers is None:
            print(f"campaign {name}: overhead not measured: the folder does not record the workers (made by a "
                  "cluster or an older version); give --workers")
            continue
        engine = sum(json.loads(p.read_text())["wall_time_s"] for p in (out / "campaigns" / name).glob("traj_*.json"))
        if c["already_complete"]:
            print(f"campaign {name}: resumed ({c['already_complete']} runs made earlier), no overhead measured")
            continue
        ratio = c["wall_time_s"] * workers / engine - 1
        print(f"campaign {name}: {c['wall_time_s']:.1f} s x {workers} workers against {engine:.1f} s of bare engine "
              f"runs -> overhead {ratio:+.1%} (goal < 5 %)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default="repro-cpu", type=Path,
                        help="the --out folder of a finished mda-glassml reproduce (default repro-cpu)")
    parser.add_argument("--workers", type=int, default=None,
                        help="local workers the campaigns ran with (default: as the folder records)")
    args = parser.parse_args()
    main(args.out, args.workers)
