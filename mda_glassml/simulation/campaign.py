"""Many independent runs of one protocol, on dask, restartable.

A *campaign* is a folder holding ``n`` independent runs (trajectories) of one
:class:`~mda_glassml.simulation.protocol.CoolingProtocol`, differing only in
their seed::

    DIR/campaign.json        the protocol, engine, records and campaign seed
    DIR/traj_0000.gsd        thermal configurations at the kept records
    DIR/traj_0000_is.gsd     their FIRE inherent structures
    DIR/traj_0000.json       written last: the run is complete (seed, engine, wall time, IS energies, FIRE iterations)
    ...

Restarting a campaign (same command, same folder) skips the complete runs and
redoes the others. A run counts as complete only when its ``.json`` exists
*and* both GSD files read back with the expected frames: engines write under
temporary names and rename at the end, so a killed run leaves no file under
a final name, and a truncated or corrupt GSD (a full disk, a copy gone
wrong) is detected, reported and redone, never read as data. Asking for more
trajectories than the folder holds extends the campaign.

A folder holds one campaign: a ``campaign.json`` describing another protocol,
engine, record list or campaign seed is refused with an
:class:`~mda_glassml.errors.InputError`, so runs of different protocols can
never be mixed.

Per-run seeds are derived from the campaign seed alone (run ``i`` always gets
the same seed, whatever ``n``), all distinct (see :func:`run_seeds`).

Runs are dask tasks: by default on a :class:`~distributed.LocalCluster` of
``n_workers`` single-threaded worker processes, or on any dask cluster given
by its scheduler address (its workers must see the output folder and have
mda_glassml and the engine installed).

Examples
--------
>>> from mda_glassml.simulation.campaign import run_seeds, RECORD_PRESETS
>>> run_seeds(1, 3) == run_seeds(1, 5)[:3]
True
>>> RECORD_PRESETS["datasets"]
(1, 25, 107, 149, 160, 200)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import InputError, warn
from .protocol import CoolingProtocol

__all__ = [
    "CAMPAIGN_FILE",
    "ENGINES",
    "RECORD_PRESETS",
    "Campaign",
    "CampaignReport",
    "EngineUnavailable",
    "run_campaign",
    "run_seeds",
    "check_engine",
    "parse_records",
]

CAMPAIGN_FILE = "campaign.json"
#: Version of the folder layout written into campaign.json.
FORMAT_VERSION = 1
ENGINES = ("lammps", "hoomd")

#: Named record lists (indices k of a 200-record protocol, T_k = 2 - 1.95 k / 200).
RECORD_PRESETS: dict[str, tuple[int, ...]] = {
    # What the six datasets need: liquids at T = 1.990, 1.756, 0.957, 0.547,
    # 0.440 and the glass at T = 0.05.
    "datasets": (1, 25, 107, 149, 160, 200),
    # The inherent-structure energy curve for Tg: T from 1.0 to 0.05, denser
    # between 0.2 and 0.7 where the two regimes meet; includes 149, 160, 200.
    "tg": (103, 113, 123, 133, 138, 143, 149, 154, 160, 164, 168, 172, 176, 180, 185, 192, 200),
}

class EngineUnavailable(InputError):
    """The requested simulation engine cannot be used here (the message says how to install it)."""


def check_engine(engine: str) -> None:
    """Raise :class:`EngineUnavailable` (or :class:`InputError` for a bad name) unless ``engine`` can run here."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "lammps":
        from .lammps import _INSTALL_HINT, lammps_available  # noqa: PLC0415 - optional engine

        if not lammps_available():
            raise EngineUnavailable(_INSTALL_HINT)
    else:
        from .hoomd_engine import INSTALL_HINT, hoomd_available  # noqa: PLC0415

        if not hoomd_available():
            raise EngineUnavailable(INSTALL_HINT)


def parse_records(text: str | None, protocol: CoolingProtocol) -> tuple[int, ...] | None:
    """Records from a command-line value: a preset name, ``all``, or comma-separated indices.

    ``None`` (no value) means the ``datasets`` preset for a cooling run and all
    records for an equilibrium liquid; ``all`` and the result ``None`` mean every record.

    >>> parse_records("tg", CoolingProtocol())[:3], parse_records("1, 200", CoolingProtocol())
    ((103, 113, 123), (1, 200))
    """
    if text is None:
        text = "all" if protocol.is_hold else "datasets"
    text = text.strip()
    if text == "all":
        return None
    if text in RECORD_PRESETS:
        return RECORD_PRESETS[text]
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"records must be a preset ({', '.join(RECORD_PRESETS)}, all) or comma-separated "
                         f"integers, got {text!r}") from None


def run_seeds(campaign_seed: int, n: int) -> list[int]:
    """Seeds of runs ``0..n-1``: a prefix of a permutation of 1..65535 fixed by ``campaign_seed``.

    A permutation (not independent draws) so that no two runs of a campaign
    share a seed; a prefix so that extending a campaign keeps the seeds of
    its existing runs. 65535 is the largest seed valid for every engine.
    """
    if not 0 < n <= 65_535:
        raise InputError(f"a campaign holds 1 to 65535 trajectories, got {n}")
    perm = np.random.default_rng(int(campaign_seed)).permutation(65_535) + 1
    return [int(s) for s in perm[:n]]


def _protocol_identity(protocol: CoolingProtocol) -> dict[str, Any]:
    """The protocol as stored in campaign.json: everything but the per-run seed."""
    d = protocol.to_dict()
    d.pop("seed")
    return d


@dataclass(frozen=True)
class Campaign:
    """One campaign folder: where each run's files live and what they must contain.

    ``protocol.seed`` is ignored (each run gets its own, from ``campaign_seed``).
    ``records`` are the kept record indices (default: all).
    """

    folder: Path
    protocol: CoolingProtocol
    engine: str = "lammps"
    records: tuple[int, ...] | None = None
    campaign_seed: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))
        if self.engine not in ENGINES:
            raise InputError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        ks = (tuple(range(self.protocol.n_records + 1)) if self.records is None
              else tuple(sorted({int(k) for k in self.records})))
        if not ks:
            raise InputError("records is empty: ask for at least one record index")
        bad = [k for k in ks if not 0 <= k <= self.protocol.n_records]
        if bad:
            raise InputError(
                f"record indices must lie in [0, {self.protocol.n_records}] for this protocol, got {bad}")
        object.__setattr__(self, "records", ks)
        if isinstance(self.campaign_seed, bool) or not isinstance(self.campaign_seed, (int, np.integer)) \
                or self.campaign_seed < 0:
            raise InputError(f"the campaign seed must be an integer >= 0, got {self.campaign_seed!r}")

    # -- the folder's description ---------------------------------------------
    def description(self) -> dict[str, Any]:
        """What campaign.json holds."""
        return {
            "format": FORMAT_VERSION,
            "engine": self.engine,
            "campaign_seed": int(self.campaign_seed),
            "records": list(self.records),
            "protocol": _protocol_identity(self.protocol),
        }

    @classmethod
    def open(cls, folder: str | os.PathLike) -> "Campaign":
        """The campaign already in ``folder`` (read from its campaign.json)."""
        path = Path(folder) / CAMPAIGN_FILE
        if not path.is_file():
            raise InputError(f"{folder} is not a campaign folder: it has no {CAMPAIGN_FILE}")
        try:
            d = json.loads(path.read_text())
            protocol = CoolingProtocol.from_dict({**d["protocol"], "seed": 1})
            return cls(Path(folder), protocol, d["engine"], tuple(d["records"]), int(d["campaign_seed"]))
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise InputError(f"{path} is not a valid campaign description ({err!r})") from err

    def prepare(self) -> None:
        """Create the folder and campaign.json, or check that the folder holds this same campaign."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / CAMPAIGN_FILE
        if path.exists():
            existing = Campaign.open(self.folder)
            mine = replace(self, folder=existing.folder)
            if replace(existing, protocol=replace(existing.protocol, seed=1)) != \
                    replace(mine, protocol=replace(mine.protocol, seed=1)):
                raise InputError(_mismatch_message(path, existing, self))
            return
        if any(self.folder.glob("traj_*.gsd")):
            raise InputError(f"{self.folder} holds trajectories but no {CAMPAIGN_FILE}: their protocol is "
                             "unknown, so new runs will not be mixed with them; use an empty folder.")
        _write_atomically(path, json.dumps(self.description(), indent=2) + "\n")

    # -- one run ---------------------------------------------------------------
    def seed(self, i: int) -> int:
        """Seed of run ``i``."""
        return run_seeds(self.campaign_seed, i + 1)[i]

    def paths(self, i: int) -> tuple[Path, Path, Path]:
        """``(thermal GSD, inherent-structure GSD, completion JSON)`` of run ``i``."""
        stem = self.folder / f"traj_{i:04d}"
        return stem.with_suffix(".gsd"), stem.parent / f"{stem.name}_is.gsd", stem.with_suffix(".json")

    def complete_runs(self) -> list[int]:
        """Indices of the runs in the folder that are complete (checked, not assumed)."""
        ids = sorted(int(p.stem.split("_")[1]) for p in self.folder.glob("traj_[0-9][0-9][0-9][0-9].json"))
        return [i for i in ids if self.problem(i) is None]

    def problem(self, i: int) -> str | None:
        """Why run ``i`` is not complete (``None`` when it is: both GSD files valid and its JSON written)."""
        thermal, inherent, done = self.paths(i)
        if not done.exists():
            return "not run yet" if not thermal.exists() else "no completion record"
        for path, is_file in ((thermal, False), (inherent, True)):
            reason = gsd_problem(path, self.protocol, self.records, is_file)
            if reason:
                return f"{path.name}: {reason}"
        return None


def _short(value: Any) -> Any:
    """A long list of records as its size and ends (``--records all`` is 201 of them)."""
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f"{len(value)} records [{value[0]}, {value[1]}, ..., {value[-1]}]"
    return value


def _mismatch_message(path: Path, existing: Campaign, new: Campaign) -> str:
    diffs = []
    a, b = existing.description(), new.description()
    for key in ("engine", "campaign_seed", "records"):
        if a[key] != b[key]:
            diffs.append(f"{key}: folder has {_short(a[key])}, asked {_short(b[key])}")
    pa, pb = a["protocol"], b["protocol"]
    for key in sorted(set(pa) | set(pb)):
        if pa.get(key) != pb.get(key):
            diffs.append(f"protocol.{key}: folder has {pa.get(key)}, asked {pb.get(key)}")
    return (f"{path.parent} holds a different campaign ({'; '.join(diffs)}). Runs of different protocols "
            "must not be mixed: use another --out folder, or repeat the folder's own settings to resume it.")


def gsd_problem(path: Path, protocol: CoolingProtocol, records: Sequence[int], inherent: bool) -> str | None:
    """Why ``path`` is not a complete output of ``protocol`` (``None`` if it is).

    Reads every frame: a GSD file can open and list its frames yet fail on a
    chunk that was cut off, and such a file must never be read as data.
    """
    import gsd.hoomd  # noqa: PLC0415

    if not path.exists():
        return "missing"
    key = "mda_glassml/is_energy" if inherent else "mda_glassml/temperature"
    try:
        with gsd.hoomd.open(path, "r") as traj:
            if len(traj) != len(records):
                return f"{len(traj)} frames, expected {len(records)}"
            for frame, k in zip(traj, records):
                if frame.particles.N != protocol.n_particles or frame.particles.position.shape != (
                        protocol.n_particles, 3):
                    return f"a frame has {frame.particles.N} particles, expected {protocol.n_particles}"
                if int(frame.log["mda_glassml/record"][0]) != k or key not in frame.log:
                    return f"frame of record {k} is missing or lacks its log"
    except Exception as err:  # gsd raises RuntimeError/OSError/KeyError on damaged files
        return f"unreadable ({type(err).__name__}: {err})"
    return None


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------
def _execute(engine: str, protocol_dict: dict[str, Any], records: list[int], thermal: str, inherent: str,
             done: str, device: str = "auto") -> dict[str, Any]:
    """One run (a dask task; plain arguments so that it pickles): engine, then the completion JSON."""
    protocol = CoolingProtocol.from_dict(protocol_dict)
    t0 = time.perf_counter()
    if engine == "lammps":
        from .lammps import run_cooling  # noqa: PLC0415 - optional engine, imported on the worker

        result = run_cooling(protocol, thermal, inherent, records=records, progress=False)
    else:
        from .hoomd_engine import run_cooling  # noqa: PLC0415

        result = run_cooling(protocol, thermal, inherent, records=records, progress=False, device=device)
    info = {
        "seed": protocol.seed,
        "engine": engine,
        "wall_time_s": time.perf_counter() - t0,
        "records": [int(k) for k in result.records],
        "is_energy": [float(e) for e in result.is_energy],
        "fire_iterations": [int(n) for n in result.fire_iterations],
    }
    _write_atomically(Path(done), json.dumps(info, indent=2) + "\n")
    return info


@dataclass
class CampaignReport:
    """What :func:`run_campaign` did."""

    campaign: Campaign
    n_trajectories: int
    skipped: list[int] = field(default_factory=list)
    ran: list[int] = field(default_factory=list)
    redone: dict[int, str] = field(default_factory=dict)
    run_wall_times_s: dict[int, float] = field(default_factory=dict)
    wall_time_s: float = 0.0

    def summary(self) -> str:
        lines = [f"{self.campaign.folder}: {self.n_trajectories} trajectories, {len(self.skipped)} already "
                 f"complete, {len(self.ran)} run in {self.wall_time_s:.1f} s"]
        for i, why in sorted(self.redone.items()):
            lines.append(f"  redid traj_{i:04d} ({why})")
        return "\n".join(lines)


def run_campaign(
    folder: str | os.PathLike,
    protocol: CoolingProtocol,
    n_trajectories: int,
    engine: str = "lammps",
    records: Sequence[int] | None = None,
    campaign_seed: int = 1,
    n_workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    device: str = "auto",
) -> CampaignReport:
    """Run (or resume, or extend) a campaign of ``n_trajectories`` independent runs.

    Parameters
    ----------
    folder
        Output folder (created if needed); see the module docstring for its layout.
    protocol
        The protocol of every run (its ``seed`` is replaced by each run's own).
    n_trajectories
        Runs wanted in the folder; complete ones are kept.
    engine
        ``"lammps"`` (CPU) or ``"hoomd"`` (HOOMD-blue, GPU by default).
    records
        Record indices to keep, e.g. ``RECORD_PRESETS["datasets"]`` (default: all).
    campaign_seed
        Fixes every run's seed (:func:`run_seeds`).
    n_workers
        Worker processes of the local dask cluster (one thread each).
    scheduler
        Address of a running dask scheduler to use instead (``n_workers`` ignored).
    progress
        Show a progress bar over runs.
    device
        HOOMD-blue only: ``"auto"`` (a GPU if the worker has one, else the CPU
        with a warning), ``"gpu"`` (an error where there is none) or ``"cpu"``.
        Not part of the campaign's identity: it changes speed, not the protocol.

    Raises
    ------
    InputError
        Impossible parameters, or a folder holding another campaign.
    EngineUnavailable
        The engine cannot be imported here (the message says how to install it).
    RuntimeError
        A run failed (the other runs' results are kept; rerun to retry).

    Examples
    --------
    Twenty fast-rate runs keeping the records of the six datasets, on four
    local worker processes (rerun the same call to resume after a crash; in a
    script, under the main guard: the workers import the script again)::

        from mda_glassml.simulation import CoolingProtocol
        from mda_glassml.simulation.campaign import RECORD_PRESETS, run_campaign

        if __name__ == "__main__":
            report = run_campaign("fast", CoolingProtocol.fast(), 20, records=RECORD_PRESETS["datasets"],
                                  n_workers=4)
            print(report.summary())
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    if isinstance(n_trajectories, bool) or not isinstance(n_trajectories, (int, np.integer)) or n_trajectories < 1:
        raise InputError(f"n_trajectories must be a positive integer, got {n_trajectories!r}")
    if scheduler is None and (not isinstance(n_workers, (int, np.integer)) or n_workers < 1):
        raise InputError(f"workers must be a positive integer, got {n_workers!r}")
    campaign = Campaign(Path(folder), protocol, engine, None if records is None else tuple(records), campaign_seed)
    seeds = run_seeds(campaign_seed, n_trajectories)
    check_engine(engine)
    if engine == "hoomd":
        from .hoomd_engine import DEVICES, NO_GPU, check_device, check_protocol  # noqa: PLC0415

        check_protocol(protocol)  # what HOOMD-blue cannot run fails here, not in every worker
        if scheduler is None:
            # local workers see this machine's devices: a missing GPU is an error before any work, and
            # "auto" is settled here, so that the CPU fallback is said once, not by every run's worker
            resolved = check_device(device)
            if device == "auto" and resolved == "cpu":
                warn(NO_GPU)
            device = resolved
        elif device not in DEVICES:
            raise InputError(f"device must be one of {', '.join(DEVICES)}; got {device!r}")
    elif device not in ("auto", "cpu"):
        raise InputError(f"the LAMMPS engine runs on the CPU only; got device={device!r} (use the hoomd engine)")
    campaign.prepare()

    t0 = time.perf_counter()
    report = CampaignReport(campaign, n_trajectories)
    todo = []
    for i in range(n_trajectories):
        why = campaign.problem(i)
        if why is None:
            report.skipped.append(i)
            continue
        if why != "not run yet":
            report.redone[i] = why
        # Clear whatever a killed or damaged run left (its leftovers are never data).
        thermal, inherent, done = campaign.paths(i)
        for path in (done, thermal, inherent):
            path.unlink(missing_ok=True)
        for stale in campaign.folder.glob(f".traj_{i:04d}*.part"):
            stale.unlink(missing_ok=True)
        todo.append(i)
    if report.redone and progress:
        for i, why in sorted(report.redone.items()):
            print(f"traj_{i:04d} is incomplete ({why}): running it again")

    if todo:
        _run_on_dask(campaign, seeds, todo, report, n_workers, scheduler, progress, tqdm, device)
    report.wall_time_s = time.perf_counter() - t0
    return report


def _run_on_dask(campaign, seeds, todo, report, n_workers, scheduler, progress, tqdm, device) -> None:
    from dask.distributed import Client, as_completed  # noqa: PLC0415

    from ..cluster import local_cluster  # noqa: PLC0415

    cluster = None
    if scheduler is None:
        # One thread per worker process: LAMMPS runs serial, and threads would
        # only contend for the cores the processes already use.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        cluster = local_cluster(n_workers)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as err:
            raise InputError(f"cannot reach the dask scheduler at {scheduler!r}: {err}") from err
    failures: list[str] = []
    try:
        futures = {}
        for i in todo:
            protocol = replace(campaign.protocol, seed=seeds[i])
            thermal, inherent, done = campaign.paths(i)
            fut = client.submit(_execute, campaign.engine, protocol.to_dict(), list(campaign.records),
                                str(thermal), str(inherent), str(done), device, key=f"traj-{i:04d}-{seeds[i]}",
                                pure=False)
            futures[fut] = i
        with tqdm(total=len(todo), unit="run", disable=not progress, desc="campaign") as bar:
            for fut in as_completed(futures):
                # Drop the finished future: while the client holds it, a worker lost later makes
                # the scheduler recompute that run (its files are already written).
                i = futures.pop(fut)
                try:
                    info = fut.result()
                except Exception as err:  # keep the finished runs; report every failure at the end
                    failures.append(f"traj_{i:04d}: {type(err).__name__}: {err}")
                else:
                    report.ran.append(i)
                    report.run_wall_times_s[i] = info["wall_time_s"]
                finally:
                    fut.release()
                bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    report.ran.sort()
    if failures:
        raise RuntimeError(f"{len(failures)} run(s) failed (completed runs are kept; rerun to retry):\n  "
                           + "\n  ".join(failures))
