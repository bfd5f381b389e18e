"""The reproduction as restartable steps: ``mda-glassml reproduce``.

Each step writes its numbers to ``OUT/steps/<step>.json`` (atomically, last)
and its figures to ``OUT/figures/``; a step whose JSON exists is never redone,
so a killed reproduction continues where it stopped, and a half-written
file (``.part``) is never read. ``OUT/preset.json`` names the preset: an
output folder of another preset (or of other sizes) is refused.

Examples
--------
Plan the paper's sizes without running anything::

    mda-glassml reproduce --preset paper --dry-run

Run the 2-core preset (resume by running it again)::

    mda-glassml reproduce --preset cpu --out repro-cpu --workers 2
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from .campaigns import campaign_folder, run_campaigns
from .presets import Preset

__all__ = ["STEPS", "NOT_YET", "Reproduction", "check_scheduler", "estimate_campaign_seconds"]

#: The steps, in order (each a method ``_step_<name>``).
STEPS = ("campaigns", "tg", "datasets", "auc", "cross_dataset", "size", "attention", "attention_variants",
         "cnn_interpretation", "metrics_vs_t", "rdfs", "report")

#: The paper's experiments this command does not run yet (named in every report; none now).
NOT_YET: dict[str, str] = {}

# Measured on one core here (LAMMPS, docs/simulation_notes.md and benchmarks): seconds per MD step
# per particle, and seconds per FIRE minimisation at N = 1080 (about 16k iterations; the count grows
# with N, so the cost is taken as growing with N^2 -- a rough planning figure, not a promise).
_STEP_SECONDS_PER_PARTICLE = 0.5e-3 / 4320
_FIRE_SECONDS_1080 = 1.8


def estimate_campaign_seconds(preset: Preset) -> dict[str, float]:
    """Rough single-core cost of each campaign of ``preset`` (LAMMPS on this project's CPU)."""
    out = {}
    for spec in preset.campaigns:
        p = spec.protocol
        n_is = len(spec.records) if spec.records is not None else p.n_records + 1
        per_run = (p.total_steps * p.n_particles * _STEP_SECONDS_PER_PARTICLE
                   + n_is * _FIRE_SECONDS_1080 * (p.n_particles / 1080) ** 2)
        out[spec.name] = per_run * spec.n_trajectories
    return out


def check_scheduler(address: str, timeout: float = 10.0) -> None:
    """Connect to a dask scheduler before any work; an :class:`InputError` that says so if it cannot."""
    try:
        from dask.distributed import Client  # noqa: PLC0415
    except ImportError:
        raise InputError("--scheduler needs dask: pip install 'mda-glassml[dask]'") from None
    try:
        with Client(address, timeout=timeout):
            pass
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the dask scheduler at {address!r} within {timeout:g} s ({exc}); "
                         "start it (dask scheduler) or check the address") from None


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _save_figure(fig: Any, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.part.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    return path.name


class Reproduction:
    """One reproduction folder: its preset, its finished steps, and the steps still to run.

    Parameters
    ----------
    preset : Preset
    out : path
        Output folder (created); refused if it holds another preset's results.
    engine, n_workers, scheduler, device
        How the campaigns run (see :func:`~mda_glassml.simulation.campaign.run_campaign`);
        ``device`` is HOOMD-blue's.
    train_device : str
        torch's device for the training steps (cross-validation, attention): ``"cpu"``
        (default), ``"cuda"`` or ``"auto"``.
    progress : bool
        Progress bars and one line per step.
    """

    def __init__(self, preset: Preset, out: str | os.PathLike, engine: str = "lammps", n_workers: int = 1,
                 scheduler: str | None = None, device: str = "auto", progress: bool = True,
                 train_device: str = "cpu"):
        from ..models.device import torch_device  # noqa: PLC0415

        self.preset = preset
        self.out = Path(out)
        self.engine, self.n_workers, self.scheduler, self.device = engine, n_workers, scheduler, device
        self.train_device = str(torch_device(train_device))  # a missing GPU fails now, not at the first training
        self.progress = progress

    # -- the folder -------------------------------------------------------
    def _step_file(self, step: str) -> Path:
        return self.out / "steps" / f"{step}.json"

    def done(self, step: str) -> dict[str, Any] | None:
        """The saved result of ``step``, or None if it has not finished."""
        path = self._step_file(step)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            return None  # damaged: the step runs again

    def check_folder(self, record: bool = True) -> None:
        """Refuse a folder of another preset; record this one's in a new folder (unless ``record`` is False)."""
        path = self.out / "preset.json"
        mine = self.preset.to_dict()
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"--out {self.out} is a file, not a folder: give a new or empty folder")
        if path.is_file():
            try:
                theirs = json.loads(path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                theirs = None
            if not isinstance(theirs, dict):
                raise InputError(f"{path} is damaged: it records which preset made this folder, so the results "
                                 "beside it cannot be trusted to match; give another --out, or delete the folder "
                                 "to start again")
            if theirs.get("name") != mine["name"]:
                raise InputError(f"{self.out} holds the results of the {theirs.get('name')!r} preset, not "
                                 f"{mine['name']!r}: give another --out")
            if theirs != mine:
                raise InputError(f"{self.out} holds {mine['name']!r} results of other sizes (made by another "
                                 "version of the preset): give another --out")
            return
        if self.out.exists() and any(p.name != "reproduce.log" for p in self.out.iterdir()):
            raise InputError(f"{self.out} exists and is not a reproduction folder: give an empty or new --out")
        if record:
            _write_json(path, mine)

    def plan(self) -> list[dict[str, Any]]:
        """The steps, whether each is done, and the campaigns' estimated single-core cost.

        A folder that :meth:`run` would refuse (another preset's) is refused here too, and nothing is written.
        """
        self.check_folder(record=False)
        cost = estimate_campaign_seconds(self.preset)
        rows = [{"step": "campaigns", "done": self.done("campaigns") is not None,
                 "campaigns": [{**spec.to_dict(), "estimated_core_hours": cost[spec.name] / 3600}
                               for spec in self.preset.campaigns],
                 "estimated_core_hours": sum(cost.values()) / 3600}]
        rows += [{"step": s, "done": self.done(s) is not None} for s in STEPS[1:]]
        return rows

    def describe_plan(self) -> str:
        lines = [f"preset {self.preset.name}: {self.preset.description}"]
        for row in self.plan():
            mark = "done" if row["done"] else "to run"
            if row["step"] == "campaigns":
                lines.append(f"  campaigns ({mark}), about {row['estimated_core_hours']:.3g} core-hours on this "
                             "project's CPU (LAMMPS; divide by the workers):")
                for c in row["campaigns"]:
                    p = c["protocol"]
                    lines.append(f"    {c['name']}: {c['n_trajectories']} runs x N = {p['n_particles']}, "
                                 f"{p['n_steps']:.3g} steps, {len(c['records']) if c['records'] else 1} IS per run "
                                 f"-> {c['estimated_core_hours']:.3g} core-hours")
            else:
                lines.append(f"  {row['step']} ({mark})")
        if NOT_YET:
            lines.append("  not yet part of this command: " + "; ".join(NOT_YET))
        return "\n".join(lines)

    # -- running ----------------------------------------------------------
    def run(self, stop_after: str | None = None) -> dict[str, Any]:
        """Run every unfinished step in order (up to ``stop_after``); returns ``{step: result}``."""
        if stop_after is not None and stop_after not in STEPS:
            raise InputError(f"unknown step {stop_after!r}; steps are {', '.join(STEPS)}")
        if self.scheduler is not None:
            check_scheduler(self.scheduler)
        self.check_folder()
        results = {}
        for step in STEPS:
            saved = self.done(step)
            if saved is None or step == "report":  # the report is remade from whatever has finished
                if self.progress:
                    print(f"[reproduce] {step} ...", flush=True)
                t0 = time.perf_counter()
                method: Callable[[], dict[str, Any]] = getattr(self, f"_step_{step}")
                saved = method()
                saved["wall_time_s"] = time.perf_counter() - t0
                _write_json(self._step_file(step), saved)
                if self.progress:
                    print(f"[reproduce] {step} done in {saved['wall_time_s']:.1f} s", flush=True)
            elif self.progress:
                print(f"[reproduce] {step}: already done", flush=True)
            results[step] = saved
            if step == stop_after:
                break
        return results

    def _figure(self, fig: Any, name: str) -> str:
        return _save_figure(fig, self.out / "figures" / name)

    # -- the steps --------------------------------------------------------
    def _step_campaigns(self) -> dict[str, Any]:
        # The workers are recorded for benchmarks/bench_reproduce.py (a cluster's are not known here).
        return {"campaigns": run_campaigns(self.preset, self.out, engine=self.engine, n_workers=self.n_workers,
                                           scheduler=self.scheduler, progress=self.progress, device=self.device),
                "workers": None if self.scheduler else self.n_workers}

    def _step_tg(self) -> dict[str, Any]:
        from .tg_curves import tg_curves  # noqa: PLC0415

        curves = tg_curves({r: campaign_folder(self.out, r) for r in ("fast", "slow")},
                           n_bootstrap=self.preset.tg_n_bootstrap)
        return {"rates": curves.to_dict(), "figure": self._figure(curves.figure(), "fig1_is_energy_tg.png")}

    def _step_datasets(self) -> dict[str, Any]:
        from .datasets import build_reproduction_datasets  # noqa: PLC0415

        return build_reproduction_datasets(self.preset, self.out)

    def _step_auc(self) -> dict[str, Any]:
        import functools  # noqa: PLC0415

        from ..training.crossval import cnn_builder, dmpnn_builder, nested_cv  # noqa: PLC0415
        from ..training.data import LabelledFrames  # noqa: PLC0415
        from ..training.loop import TrainConfig  # noqa: PLC0415
        from .auc import baseline_aucs, manifest_is_energy, paired_groups  # noqa: PLC0415

        p = self.preset
        models = {"dmpnn": (functools.partial(dmpnn_builder, windows_per_frame=p.dmpnn_windows_per_frame),
                            p.dmpnn_space, p.cv_epochs),
                  "cnn": (functools.partial(cnn_builder, image_size=p.cnn_image_size, shift=p.cnn_shift),
                          p.cnn_space, p.cnn_epochs or p.cv_epochs)}
        config = TrainConfig(seed=0, progress=False, device=self.train_device)
        out: dict[str, Any] = {}
        for d in range(1, 7):
            manifest = self.out / "datasets" / f"dataset{d}.csv"
            data = paired_groups(LabelledFrames.from_manifest(manifest))
            energy = manifest_is_energy(manifest)
            row: dict[str, Any] = {}
            for name, (builder, space, epochs) in models.items():
                if self.progress:
                    print(f"[reproduce] auc: dataset {d}, {name}", flush=True)
                res = nested_cv(data, builder, space=dict(space), n_evals=p.cv_evals, epochs=epochs,
                                n_folds=p.cv_folds, config=config, out_dir=self.out / "cv" / f"dataset{d}" / name,
                                n_workers=self.n_workers, scheduler=self.scheduler)
                window = self._dmpnn_window() if name == "dmpnn" else None
                row[name] = {**res.to_dict(), "auc": res.auc[0], "auc_sd": res.auc[1],
                             "accuracy": res.accuracy[0], "accuracy_sd": res.accuracy[1],
                             "window_fraction": window, "epochs": epochs,
                             "baselines": baseline_aucs(data, energy, window, n_folds=p.cv_folds, seed=config.seed,
                                                        windows_per_frame=p.dmpnn_windows_per_frame)}
            out[f"dataset{d}"] = row
        from .auc import auc_figure  # noqa: PLC0415

        return {"datasets": out, "figure": self._figure(auc_figure(out), "fig5_15_auc.png")}

    def _datasets(self) -> dict[str, Any]:
        from ..training.data import LabelledFrames  # noqa: PLC0415
        from .auc import paired_groups  # noqa: PLC0415

        return {f"dataset{d}": paired_groups(LabelledFrames.from_manifest(self.out / "datasets" / f"dataset{d}.csv"))
                for d in range(1, 7)}

    def _is_energies(self) -> dict[str, np.ndarray]:
        from .auc import manifest_is_energy  # noqa: PLC0415

        return {f"dataset{d}": manifest_is_energy(self.out / "datasets" / f"dataset{d}.csv") for d in range(1, 7)}

    def _dmpnn_window(self) -> float | None:
        w = self.preset.dmpnn_space.get("window")
        return None if isinstance(w, (tuple, list)) else w

    def _step_cross_dataset(self) -> dict[str, Any]:
        from .generalisation import cross_dataset_matrix, matrix_figure  # noqa: PLC0415

        from .auc import cross_dataset_baselines  # noqa: PLC0415

        data, p = self._datasets(), self.preset
        energies = self._is_energies()
        mats, baselines = {}, {}
        for model, window in (("dmpnn", self._dmpnn_window()), ("cnn", None)):
            mats[model] = cross_dataset_matrix(self.out / "cv", data, model, window, n_folds=p.cv_folds,
                                               windows_per_frame=p.dmpnn_windows_per_frame)
            baselines[model] = cross_dataset_baselines(data, energies, window, n_folds=p.cv_folds,
                                                       windows_per_frame=p.dmpnn_windows_per_frame)
        # The baselines on the D-MPNN's windows, as heat maps beside the models'.
        names = baselines["dmpnn"]["datasets"]
        maps = {b: {"datasets": names, "auc": m} for b, m in baselines["dmpnn"]["auc"].items()}
        return {"matrices": mats, "baselines": baselines,
                "figure": self._figure(matrix_figure(mats), "fig6_cross_dataset.png"),
                "baseline_figure": self._figure(matrix_figure(maps, "No-ML baselines across datasets, on the "
                                                                   "D-MPNN's windows (beside Figure 6)"),
                                                "fig6_cross_dataset_baselines.png")}

    def _step_size(self) -> dict[str, Any]:
        from .generalisation import size_figure, size_generalisation  # noqa: PLC0415

        data = self._datasets()["dataset1"]
        p = self.preset
        res = size_generalisation(self.out / "cv", "dataset1", data, p.size_fractions, n_folds=p.cv_folds,
                                  windows_per_frame=p.dmpnn_windows_per_frame,
                                  is_energy=self._is_energies()["dataset1"])
        trained = self._dmpnn_window()
        return {**res, "trained_window_fraction": trained,
                "figure": self._figure(size_figure(res, trained), "fig7_size.png")}

    def _step_attention(self) -> dict[str, Any]:
        from .attention_stats import attention_experiment  # noqa: PLC0415

        p = self.preset
        res = attention_experiment(self._datasets()["dataset1"], self.out / "attention", epochs=p.attention_epochs,
                                   n_windows=p.attention_windows, params=p.attention_params,
                                   device=self.train_device)
        for cut, r in res["cuts"].items():
            if "error" in r:
                continue
            r["figure"] = self._figure(r.pop("comparison_figure").figure(), f"fig9_attention_metrics_{cut}.png")
        res["picture"] = self._figure(res["picture"], "fig8_attention_graphs.png")
        return res

    def _step_attention_variants(self) -> dict[str, Any]:
        from .attention_stats import attention_variants, variants_figure  # noqa: PLC0415

        p = self.preset
        rows = attention_variants(self._datasets()["dataset1"], self.out / "attention_variants", p.attention_variants,
                                  n_windows=p.attention_windows, base_params=p.attention_params,
                                  device=self.train_device)
        return {"variants": rows,
                "figures": {cut: self._figure(variants_figure(rows, cut), f"fig9_attention_variants_{cut}.png")
                            for cut in ("paper", "trough")}}

    def _step_cnn_interpretation(self) -> dict[str, Any]:
        from .cnn_interpretation import cnn_interpretation  # noqa: PLC0415

        res = cnn_interpretation(self.out / "cv" / "dataset1", self._datasets()["dataset1"],
                                 n_images=self.preset.synthetic_images, n_folds=self.preset.cv_folds)
        res["figure"] = self._figure(res["figure"], "fig13_cnn_feature_maps.png")
        return res

    def _step_metrics_vs_t(self) -> dict[str, Any]:
        from .metrics_vs_t import metrics_vs_temperature  # noqa: PLC0415
        from .sources import campaign_frames  # noqa: PLC0415

        tg = self.done("tg")["rates"]["fast"]["tg"]
        frames, temps = campaign_frames(campaign_folder(self.out, "fast"))
        result = metrics_vs_temperature(frames, temps, tg, progress=self.progress)
        return {**result.to_dict(), "rate": "fast",
                "figure": self._figure(result.figure(), "fig10_17_metrics_vs_t.png")}

    def _step_rdfs(self) -> dict[str, Any]:
        from ..training.data import LabelledFrames  # noqa: PLC0415
        from .rdfs import class_rdfs  # noqa: PLC0415

        out = {}
        for d, fig in ((1, "fig11_rdf_dataset1.png"), (6, "fig12_rdf_dataset6.png")):
            data = LabelledFrames.from_manifest(self.out / "datasets" / f"dataset{d}.csv")
            res = class_rdfs(f"dataset {d}", data)
            out[f"dataset{d}"] = {**res.to_dict(), "figure": self._figure(res.figure(), fig)}
        return {"datasets": out}

    def _step_report(self) -> dict[str, Any]:
        from .report import write_report  # noqa: PLC0415

        steps = {s: self.done(s) for s in STEPS[:-1]}
        return write_report(self.out, self.preset, steps, versions=_versions())


def _versions() -> dict[str, str]:
    import importlib.metadata as md  # noqa: PLC0415

    out = {"python": platform.python_version()}
    for name in ("mda-glassml", "numpy", "scipy", "MDAnalysis", "freud-analysis", "torch", "statsmodels", "lammps",
                 "hoomd"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out
