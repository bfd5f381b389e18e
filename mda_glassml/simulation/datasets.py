"""The paper's six labelled datasets, built from campaign folders.

Each dataset pairs glasses (label 1) with liquids (label 0):

=======  ============================================  =====================================
dataset  liquid                                        glass
=======  ============================================  =====================================
1        record k = 1 (T = 1.990) of a run             record k = 200 (T = 0.05), same run
2        record k = 25 (T = 1.756)                     record k = 200, same run
3        record k = 107 (T = 0.957)                    record k = 200, same run
4        record k = 149 (T = 0.547)                    record k = 200, same run
5        record k = 160 (T = 0.440)                    record k = 200, same run
6        equilibrium liquid held near T = 0.547        record k = 200 of a (fast) cooling
         (a hold campaign, its last record)            campaign
=======  ============================================  =====================================

(``T_k = 2 - 1.95 k / 200``.) Datasets 1-5 come from one cooling campaign
(the paper: the slow rate) whose records include ``RECORD_PRESETS["datasets"]``.
Dataset 6 pairs liquids and glasses of equal mean inherent-structure (IS)
energy; the builder *measures* the match (means and standard errors of both
groups) and refuses to build the dataset when they differ by more than
``sigmas`` combined standard errors.

Every dataset comes twice: thermal configurations and their inherent
structures (suffix ``_is``). A dataset is a manifest, ``datasetN.csv`` or
``datasetN_is.csv``, with one row per configuration:

``file``
    GSD file, relative to the manifest's folder (the campaign's own file: the
    builder copies no coordinates, so keep campaign and dataset folders together);
``frame``
    frame index in that file;
``label``
    1 = glass, 0 = liquid;
``temperature``
    set-point temperature of the record;
``is_energy``
    IS energy per particle (unshifted, the paper's convention);
``trajectory``
    the run it comes from (``<campaign folder name>/traj_NNNN``). Split by this
    column: a run's liquid and glass are correlated and must never land in
    different splits.

Examples
--------
>>> from mda_glassml.simulation.datasets import DATASET_LIQUID_RECORDS
>>> DATASET_LIQUID_RECORDS
{1: 1, 2: 25, 3: 107, 4: 149, 5: 160}
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import InputError
from .campaign import Campaign

__all__ = ["DATASET_LIQUID_RECORDS", "GLASS_RECORD", "EnergyMatch", "ManifestRow", "build_datasets",
           "build_tg_datasets", "energy_match", "read_manifest"]

#: Liquid record of datasets 1-5 (200-record protocol from T = 2 to 0.05).
DATASET_LIQUID_RECORDS = {1: 1, 2: 25, 3: 107, 4: 149, 5: 160}
#: The glass record of every dataset (T = 0.05).
GLASS_RECORD = 200
COLUMNS = ("file", "frame", "label", "temperature", "is_energy", "trajectory")


@dataclass(frozen=True)
class ManifestRow:
    """One configuration of a dataset (a manifest line)."""

    file: str
    frame: int
    label: int
    temperature: float
    is_energy: float
    trajectory: str


@dataclass(frozen=True)
class EnergyMatch:
    """Mean IS energies (per particle) of dataset 6's liquids and glasses, and whether they agree."""

    liquid_mean: float
    liquid_sem: float
    n_liquids: int
    glass_mean: float
    glass_sem: float
    n_glasses: int
    sigmas: float

    @property
    def difference(self) -> float:
        return self.liquid_mean - self.glass_mean

    @property
    def combined_sem(self) -> float:
        return float(np.hypot(self.liquid_sem, self.glass_sem))

    @property
    def agrees(self) -> bool:
        """``|difference| <= sigmas * combined_sem``."""
        return abs(self.difference) <= self.sigmas * self.combined_sem

    def describe(self) -> str:
        return (f"liquids {self.liquid_mean:.4f} +- {self.liquid_sem:.4f} (n = {self.n_liquids}), glasses "
                f"{self.glass_mean:.4f} +- {self.glass_sem:.4f} (n = {self.n_glasses}): difference "
                f"{self.difference:+.4f} = {abs(self.difference) / max(self.combined_sem, 1e-300):.1f} combined "
                f"standard errors ({'agree' if self.agrees else 'DO NOT agree'} within {self.sigmas:g})")


def _mean_sem(values: np.ndarray) -> tuple[float, float]:
    sem = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("inf")
    return float(values.mean()), sem


def energy_match(liquid_energies: Iterable[float], glass_energies: Iterable[float], sigmas: float = 2.0) -> EnergyMatch:
    """Compare two groups' mean IS energies (standard errors from their spread; one member gives an infinite one).

    >>> m = energy_match([-3.866, -3.864, -3.868], [-3.867, -3.866, -3.868])
    >>> m.agrees
    True
    >>> energy_match([-3.850, -3.851, -3.852], [-3.867, -3.866, -3.868]).agrees
    False
    """
    liq, gla = np.asarray(list(liquid_energies), float), np.asarray(list(glass_energies), float)
    if liq.size == 0 or gla.size == 0:
        raise InputError("an energy match needs at least one liquid and one glass")
    lm, ls = _mean_sem(liq)
    gm, gs = _mean_sem(gla)
    return EnergyMatch(lm, ls, int(liq.size), gm, gs, int(gla.size), float(sigmas))


# ---------------------------------------------------------------------------
# Reading campaigns
# ---------------------------------------------------------------------------
def _check_paper_records(campaign: Campaign, needed: dict[int, str]) -> None:
    p = campaign.protocol
    if p.is_hold or p.n_records != 200 or (p.t_start, p.t_end) != (2.0, 0.05):
        raise InputError(
            f"{campaign.folder} is not a cooling campaign of the paper's shape (200 records from T = 2.0 to 0.05; "
            f"it has {p.n_records} records from {p.t_start} to {p.t_end}): datasets are defined on that grid")
    missing = {k: why for k, why in needed.items() if k not in campaign.records}
    if missing:
        temps = p.record_temperatures()
        listed = ", ".join(f"k = {k} (T = {temps[k]:.3f}, {why})" for k, why in sorted(missing.items()))
        raise InputError(f"{campaign.folder} did not record {listed}. Run the campaign with "
                         "--records datasets (records 1, 25, 107, 149, 160, 200).")


def _rows(campaign: Campaign, runs: Sequence[int], record: int, label: int, inherent: bool,
          base: Path) -> list[ManifestRow]:
    """One row per run of ``runs`` (``campaign.complete_runs()``, taken once per build): its record ``record``.

    Checking the runs once, not per record, keeps a build linear in the runs (each check reads every
    frame of both files) and gives every manifest the same runs, in the same order, even while a
    campaign is still adding runs.
    """
    import gsd.hoomd  # noqa: PLC0415

    frame = campaign.records.index(record)
    temperature = float(campaign.protocol.record_temperatures()[record])
    rows = []
    for i in runs:
        thermal, is_path, _ = campaign.paths(i)
        with gsd.hoomd.open(is_path, "r") as traj:
            energy = float(traj[frame].log["mda_glassml/is_energy"][0])
        path = is_path if inherent else thermal
        rows.append(ManifestRow(os.path.relpath(path, base), frame, label, temperature, energy,
                                f"{campaign.folder.resolve().name}/traj_{i:04d}"))
    if not rows:
        raise InputError(f"{campaign.folder} holds no complete run")
    return rows


def write_manifest(path: Path, rows: list[ManifestRow]) -> None:
    """Write a manifest atomically (temporary name, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r.file, r.frame, r.label, repr(r.temperature), repr(r.is_energy), r.trajectory])
    os.replace(tmp, path)


def read_manifest(path: str | os.PathLike) -> list[ManifestRow]:
    """Read a manifest; ``file`` is returned resolved against the manifest's folder."""
    path = Path(path)
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise InputError(f"{path} is not a dataset manifest (columns {reader.fieldnames}, expected {COLUMNS})")
        return [ManifestRow(str((path.parent / r["file"]).resolve()), int(r["frame"]), int(r["label"]),
                            float(r["temperature"]), float(r["is_energy"]), r["trajectory"]) for r in reader]


def _cooling_record(campaign: Campaign) -> dict[str, Any]:
    """The cooling behind a campaign's records, for datasets.json: steps, rate, engine, size, density, folder."""
    from .protocol import FAST_STEPS, SLOW_STEPS  # noqa: PLC0415

    p = campaign.protocol
    name = {FAST_STEPS: "fast", SLOW_STEPS: "slow"}.get(p.n_steps, "other")
    return {"campaign": str(campaign.folder), "engine": campaign.engine, "rate": name, "n_steps": p.n_steps,
            "dt": p.dt, "t_start": p.t_start, "t_end": p.t_end,
            "rate_per_time": (p.t_start - p.t_end) / (p.n_steps * p.dt), "n_particles": p.n_particles,
            "density": p.density, "campaign_seed": campaign.campaign_seed}


def build_datasets(
    out: str | os.PathLike,
    cooling: str | os.PathLike | None = None,
    liquids: str | os.PathLike | None = None,
    glasses: str | os.PathLike | None = None,
    datasets: Iterable[int] | None = None,
    sigmas: float = 2.0,
) -> dict[str, Any]:
    """Write the manifests of the requested datasets into ``out``; returns a summary (also ``datasets.json``).

    Parameters
    ----------
    out
        Folder for the manifests (created if needed).
    cooling
        Cooling campaign for datasets 1-5 (records 1, 25, 107, 149, 160, 200).
    liquids
        Equilibrium-liquid (hold) campaign for dataset 6: its last record of each run.
    glasses
        Cooling campaign whose T = 0.05 glasses are dataset 6's (default: ``cooling``).
    datasets
        Which of 1..6 (default: 1-5 when ``cooling`` is given, 6 when ``liquids`` is).
    sigmas
        Dataset 6 is refused unless the two mean IS energies agree within
        ``sigmas`` combined standard errors.

    Raises
    ------
    InputError
        A campaign lacks a needed record, or dataset 6's energies do not match.
    """
    out = Path(out)
    wanted = sorted(set(datasets)) if datasets is not None else (
        ([1, 2, 3, 4, 5] if cooling is not None else []) + ([6] if liquids is not None else []))
    if not wanted:
        raise InputError("nothing to build: give a cooling campaign (datasets 1-5) and/or a liquids campaign (6)")
    bad = [d for d in wanted if d not in range(1, 7)]
    if bad:
        raise InputError(f"datasets are numbered 1 to 6, got {bad}")
    cool = Campaign.open(cooling) if cooling is not None else None
    summary: dict[str, Any] = {"datasets": {}}
    manifests: dict[str, list[ManifestRow]] = {}

    needs_15 = [d for d in wanted if d <= 5]
    if needs_15:
        if cool is None:
            raise InputError(f"datasets {needs_15} need a cooling campaign (--cooling)")
        _check_paper_records(cool, {**{DATASET_LIQUID_RECORDS[d]: f"dataset {d}'s liquid" for d in needs_15},
                                    GLASS_RECORD: "the glass"})
    if 6 in wanted:
        if liquids is None:
            raise InputError("dataset 6 needs an equilibrium-liquid campaign (--liquids; see "
                             "mda-glassml simulate --hold-temperature)")
        glass_campaign = Campaign.open(glasses) if glasses is not None else cool
        if glass_campaign is None:
            raise InputError("dataset 6 needs a cooling campaign for its glasses (--glasses or --cooling)")
        _check_paper_records(glass_campaign, {GLASS_RECORD: "dataset 6's glass"})
        hold = Campaign.open(liquids)
        if not hold.protocol.is_hold:
            raise InputError(f"{liquids} is not an equilibrium-liquid campaign (made with --hold-temperature)")
        last = hold.records[-1]
        if last != hold.protocol.n_records:
            raise InputError(f"{liquids} did not record the end of its hold (record {hold.protocol.n_records})")

    if needs_15:  # which cooling made datasets 1-5: their glasses' history depends on it
        summary["cooling"] = _cooling_record(cool)
    if 6 in wanted:
        summary["dataset6_glass_cooling"] = _cooling_record(glass_campaign)
    out.mkdir(parents=True, exist_ok=True)
    cool_runs = cool.complete_runs() if needs_15 else []
    if 6 in wanted:
        hold_runs = hold.complete_runs()
        glass_runs = cool_runs if glass_campaign is cool and needs_15 else glass_campaign.complete_runs()
    for inherent in (False, True):
        suffix = "_is" if inherent else ""
        for d in needs_15:
            rows = (_rows(cool, cool_runs, DATASET_LIQUID_RECORDS[d], 0, inherent, out)
                    + _rows(cool, cool_runs, GLASS_RECORD, 1, inherent, out))
            manifests[f"dataset{d}{suffix}"] = rows
        if 6 in wanted:
            rows = (_rows(hold, hold_runs, last, 0, inherent, out)
                    + _rows(glass_campaign, glass_runs, GLASS_RECORD, 1, inherent, out))
            manifests[f"dataset6{suffix}"] = rows

    if 6 in wanted:
        rows = manifests["dataset6"]
        match = energy_match([r.is_energy for r in rows if r.label == 0],
                             [r.is_energy for r in rows if r.label == 1], sigmas)
        summary["dataset6_energy_match"] = {
            "liquid_temperature": hold.protocol.t_start, "hold_steps": hold.protocol.n_steps,
            "liquid_mean": match.liquid_mean, "liquid_sem": match.liquid_sem, "n_liquids": match.n_liquids,
            "glass_mean": match.glass_mean, "glass_sem": match.glass_sem, "n_glasses": match.n_glasses,
            "difference": match.difference, "sigmas": sigmas, "agrees": match.agrees}
        if not match.agrees:
            raise InputError(
                "dataset 6 refused: its liquids and glasses are not energy-matched: " + match.describe()
                + ". Hold the liquids at another temperature (lower T lowers their IS energy), hold them longer, "
                "or add runs to shrink the errors.")
        summary["dataset6_energy_match"]["text"] = match.describe()

    for name, rows in manifests.items():
        write_manifest(out / f"{name}.csv", rows)
        labels = np.array([r.label for r in rows])
        summary["datasets"][name] = {
            "manifest": f"{name}.csv", "n_glass": int(labels.sum()), "n_liquid": int((labels == 0).sum()),
            "liquid_temperature": float(np.unique([r.temperature for r in rows if r.label == 0])[0]),
            "mean_is_energy_liquid": float(np.mean([r.is_energy for r in rows if r.label == 0])),
            "mean_is_energy_glass": float(np.mean([r.is_energy for r in rows if r.label == 1])),
            "n_trajectories": len({r.trajectory for r in rows}),
        }
    _write_summary(out, "datasets.json", summary)
    return summary


# ---------------------------------------------------------------------------
# Labels from the physics: glass below Tg - delta, liquid above Tg + delta
# ---------------------------------------------------------------------------
def _write_summary(out: Path, name: str, summary: dict[str, Any]) -> None:
    tmp = out / f".{name}.{os.getpid()}.part"
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    os.replace(tmp, out / name)


def build_tg_datasets(
    out: str | os.PathLike,
    cooling: str | os.PathLike,
    liquids: Iterable[str | os.PathLike] = (),
    delta: float = 0.05,
    tg: float | None = None,
    t_max: float = 1.0,
) -> dict[str, Any]:
    """Label every record of a cooling campaign by its temperature against the campaign's own Tg.

    A record at set point ``T`` is a *glass* (label 1) when ``T < Tg - delta``
    and a *liquid* (label 0) when ``T > Tg + delta``; records inside the band
    are left out (written to ``tg_band.csv``, labelled by the side of Tg
    they lie on, for evaluation only). Equilibrium liquids (hold campaigns, every record) join as
    liquids; their temperature must lie above ``Tg + delta``. Unlike
    datasets 1-6 (every liquid against the T = 0.05 glass), the glasses span
    every temperature below the band, so "how much do the particles vibrate"
    no longer separates the classes by itself.

    Writes ``tg_thermal.csv``, ``tg_thermal_is.csv`` (the same configurations'
    inherent structures, same order), ``tg_band.csv``, ``tg_band_is.csv`` and
    ``tg_datasets.json`` (the Tg fit, ``delta``, counts per temperature)
    into ``out``; returns the summary.

    Parameters
    ----------
    cooling
        Cooling campaign with records on both sides of Tg (e.g. ``--records tg``).
    liquids
        Hold campaigns (``mda-glassml simulate --hold-temperature``), any number.
    delta
        Half-width of the band around Tg that is left out.
    tg
        Use this Tg instead of fitting it (the fit needs records on both sides).
    t_max
        Records above this temperature are left out of the Tg fit (not of the data).

    Examples
    --------
    ::

        from mda_glassml.simulation.datasets import build_tg_datasets
        summary = build_tg_datasets("tg_data", cooling="fast4320", liquids=["liquid_0.60"], delta=0.05)
        summary["tg"], summary["n_glass"], summary["n_liquid"]
    """
    from .tg import campaign_is_energies, fit_tg  # noqa: PLC0415

    out = Path(out)
    if not (isinstance(delta, (int, float)) and delta >= 0):
        raise InputError(f"delta (the half-width of the band left out around Tg) must be >= 0, got {delta!r}")
    cool = Campaign.open(cooling)
    if cool.protocol.is_hold:
        raise InputError(f"{cooling} is a hold campaign; the labels need a cooling campaign (--cooling)")
    fit = None
    if tg is None:
        temperatures, energies = campaign_is_energies(cooling)
        fit = fit_tg(temperatures, energies, t_max=t_max)
        tg = fit.tg
    lo, hi = tg - delta, tg + delta
    temps = cool.protocol.record_temperatures()
    rows: dict[str, list[ManifestRow]] = {"tg_thermal": [], "tg_thermal_is": [], "tg_band": [], "tg_band_is": []}
    cool_runs = cool.complete_runs()
    for k in cool.records:
        t = float(temps[k])
        label = 1 if t < lo else 0 if t > hi else None
        key = "tg_thermal" if label is not None else "tg_band"
        for inherent, suffix in ((False, ""), (True, "_is")):
            # band rows keep which side of Tg they lie on: for evaluation, never for training
            rows[key + suffix] += _rows(cool, cool_runs, k, int(t < tg) if label is None else label, inherent, out)
    holds = []
    for folder in liquids:
        hold = Campaign.open(folder)
        if not hold.protocol.is_hold:
            raise InputError(f"{folder} is not an equilibrium-liquid campaign (made with --hold-temperature)")
        if not hold.protocol.t_start > hi:
            raise InputError(f"{folder} holds its liquids at T = {hold.protocol.t_start}, not above Tg + delta = "
                             f"{hi:.3f}: hold them hotter or narrow delta")
        hold_runs = hold.complete_runs()
        for k in hold.records:
            for inherent, suffix in ((False, ""), (True, "_is")):
                rows["tg_thermal" + suffix] += _rows(hold, hold_runs, k, 0, inherent, out)
        holds.append(_cooling_record(hold) | {"hold_temperature": hold.protocol.t_start,
                                              "n_runs": len(hold_runs), "n_records": hold.protocol.n_records,
                                              "melt_steps": hold.protocol.melt_steps})
    labelled = rows["tg_thermal"]
    if not {0, 1} <= {r.label for r in labelled}:
        raise InputError(f"with Tg = {tg:.3f} and delta = {delta} the records of {cooling} give only one class: "
                         "keep records on both sides of the band (--records tg)")
    out.mkdir(parents=True, exist_ok=True)
    for name, manifest in rows.items():
        write_manifest(out / f"{name}.csv", manifest)
    per_t: dict[str, dict[str, int]] = {}
    for r in labelled:
        entry = per_t.setdefault(f"{r.temperature:.4f}", {"label": r.label, "n": 0})
        entry["n"] += 1
    summary: dict[str, Any] = {
        "tg": float(tg), "tg_err": None if fit is None else fit.tg_err, "tg_fitted": fit is not None,
        "tg_t_max": t_max if fit is not None else None, "delta": float(delta),
        "glass_below": lo, "liquid_above": hi,
        "n_glass": int(sum(r.label for r in labelled)), "n_liquid": int(sum(1 - r.label for r in labelled)),
        "n_band": len(rows["tg_band"]), "n_trajectories": len({r.trajectory for r in labelled}),
        "per_temperature": dict(sorted(per_t.items(), key=lambda kv: -float(kv[0]))),
        "n_cooling_runs": len(cool_runs), "cooling_records": list(cool.records),
        "cooling": _cooling_record(cool), "liquids": holds,
    }
    _write_summary(out, "tg_datasets.json", summary)
    return summary
