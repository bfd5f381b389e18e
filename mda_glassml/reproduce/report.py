"""The reproduction report: ``OUT/report.md`` and ``OUT/results.json``, every number beside the paper's."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from .presets import Preset

__all__ = ["PAPER", "write_report"]

#: The paper's numbers that the steps here measure (section II.1, Figure 1, section III.2).
PAPER: dict[str, Any] = {
    "n_particles": 4320,
    "fast_steps": 200_000,
    "slow_steps": 20_000_000,
    "trajectories_per_rate": 10_000,
    "tg": {"fast": 0.39, "slow": 0.37},
    "glass_is_energy": {"fast": -3.867, "slow": -3.903},
    "dataset6_is_energy": -3.867,
    "min_auc": 0.98,
    "size_auc_l03": 0.957,
    "eq12": "positive interaction coefficients, p < 0.05, for all three metrics",
}


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"
    return str(x)


def _relative(x: Any, out: Path) -> Any:
    """``x`` with paths inside the reproduction folder made relative to it (no machine paths in results.json)."""
    if isinstance(x, dict):
        return {k: _relative(v, out) for k, v in x.items()}
    if isinstance(x, list):
        return [_relative(v, out) for v in x]
    if isinstance(x, str):
        for root in (str(out.resolve()), str(out)):
            if x == root or x.startswith(root + os.sep):
                return os.path.relpath(x, root)
    return x


def _matrix(names: list[str], rows: list[list[float]]) -> list[str]:
    return ["| trained \\ tested | " + " | ".join(names) + " |", "|---|" + "---|" * len(names),
            *[f"| {name} | " + " | ".join(f"{x:.3f}" for x in row) + " |" for name, row in zip(names, rows)]]


def _sizes(preset: Preset) -> list[str]:
    lines = ["| campaign | role | runs | N | steps | records kept | seed | paper |", "|---|---|---|---|---|---|---|---|"]
    paper = {"fast": f"{PAPER['trajectories_per_rate']} runs, N = 4320, 2e5 steps",
             "slow": f"{PAPER['trajectories_per_rate']} runs, N = 4320, 2e7 steps"}
    for c in preset.campaigns:
        p = c.protocol
        lines.append(f"| {c.name} | {c.role} | {c.n_trajectories} | {p.n_particles} | {p.n_steps:.3g} | "
                     f"{len(c.records) if c.records else 'last'} | {c.seed} | "
                     f"{paper.get(c.name, 'the paper used the slow run at T = 0.547')} |")
    return lines


def _budgets(preset: Preset) -> list[str]:
    from ..training.crossval import CNN_SPACE, PAPER_SPACE  # noqa: PLC0415

    def space(sp: dict[str, Any]) -> str:
        return ", ".join(f"{k} {'%g–%g step %g' % tuple(v) if isinstance(v, (tuple, list)) else v}"
                         for k, v in sp.items())

    p = preset
    rows = [("outer folds", p.cv_folds, 3), ("TPE evaluations per fold", p.cv_evals, 15),
            ("epochs per evaluation, D-MPNN", p.cv_epochs, 10), ("epochs per evaluation, CNN", p.cnn_epochs or p.cv_epochs, 10),
            ("D-MPNN windows per frame and epoch", p.dmpnn_windows_per_frame, 1),
            ("D-MPNN search space", space(p.dmpnn_space), space(PAPER_SPACE)),
            ("CNN image (pixels), augmentation", f"{p.cnn_image_size}, turns + mirrors"
             + (" + translations" if p.cnn_shift else ""), "250, turns + mirrors"),
            ("CNN search space", space(p.cnn_space), space(CNN_SPACE))]
    return ["| training budget | this preset | paper |", "|---|---|---|", *[f"| {a} | {b} | {c} |" for a, b, c in rows]]


def write_report(out: str | Path, preset: Preset, steps: dict[str, dict[str, Any] | None],
                 versions: dict[str, str]) -> dict[str, Any]:
    """Write the report from the finished steps' results; returns ``{"report", "results"}`` file names."""
    out = Path(out)
    results = {"preset": preset.to_dict(), "paper": PAPER, "steps": _relative(steps, out), "versions": versions}
    md = [f"# Reproduction report — preset `{preset.name}`", "", preset.description, "",
          "Every number here was measured by `mda-glassml reproduce` in this folder; the paper's value stands "
          "beside it. Energies are per particle, unshifted Lennard-Jones (the paper's convention).", "",
          "## Sizes", "", *_sizes(preset), "", *_budgets(preset), ""]

    tg = (steps.get("tg") or {}).get("rates")
    if tg:
        md += ["## Figure 1: inherent-structure energy and Tg", "", f"![Figure 1](figures/{steps['tg']['figure']})", "",
               "| rate | steps | runs | Tg (fit range T ≤ t_max, chosen) | t_max | Tg, whole curve | paper Tg | "
               "glass IS energy (T = 0.05) | paper |", "|---|---|---|---|---|---|---|---|---|"]
        for rate, r in tg.items():
            md.append(f"| {rate} | {r['n_steps']:.3g} | {r['n_trajectories']} | {r['tg']:.3f} ± {r['tg_err']:.3f} | "
                      f"{_fmt(r['t_max'], 3)} | {_fmt(r['whole_curve_tg'], 3)} | {PAPER['tg'][rate]} | "
                      f"{r['glass_is_energy']:.4f} ± {r['glass_is_energy_sd']:.4f} (sd) | "
                      f"{PAPER['glass_is_energy'][rate]} |")
        md += ["", "The fit range is chosen by `fit_tg(t_max=\"auto\")`: the widest range whose liquid branch "
               "shows no curvature. The whole-curve column shows what a fit over every record gives.", ""]

    ds = steps.get("datasets")
    if ds:
        md += ["## The six datasets", "", "| dataset | liquid T | glasses | liquids | trajectories | "
               "mean IS energy, liquid | glass |", "|---|---|---|---|---|---|---|"]
        for name, d in ds["datasets"].items():
            md.append(f"| {name} | {d['liquid_temperature']:.3f} | {d['n_glass']} | {d['n_liquid']} | "
                      f"{d['n_trajectories']} | {d['mean_is_energy_liquid']:.4f} | {d['mean_is_energy_glass']:.4f} |")
        m = ds["dataset6_energy_match"]
        md += ["", f"Dataset 6's liquids: campaign `{ds['dataset6_liquid_campaign']}` (the best energy match of "
               f"{len(ds['dataset6_candidates'])} candidates): {m['text']}. Paper: both near "
               f"{PAPER['dataset6_is_energy']}.", "",
               "| candidate | T | liquid IS energy | glass IS energy | difference | standard errors apart |",
               "|---|---|---|---|---|---|"]
        for c in ds["dataset6_candidates"]:
            md.append(f"| {c['campaign']} | {c['temperature']:.3f} | {c['liquid_mean']:.4f} ± {c['liquid_sem']:.4f} | "
                      f"{c['glass_mean']:.4f} ± {c['glass_sem']:.4f} | {c['difference']:+.4f} | "
                      f"{c['sigmas_apart']:.1f} |")
        md.append("")

    auc = steps.get("auc")
    if auc:
        md += ["## Figures 5 and 15: AUC and accuracy per dataset (nested cross-validation)", "",
               f"![Figures 5 and 15](figures/{auc['figure']})", "",
               f"Outer-test AUC and accuracy, mean ± sd over {preset.cv_folds} grouped outer folds; hyperparameters "
               f"by TPE ({preset.cv_evals} evaluations of {preset.cv_epochs} epochs for the D-MPNN, "
               f"{preset.cnn_epochs or preset.cv_epochs} for the CNN) on inner validation only. The D-MPNN trains on "
               f"{preset.dmpnn_windows_per_frame} window(s) per frame and epoch and is tested on as many per frame; "
               f"the CNN's training images are {'turned, mirrored and translated' if preset.cnn_shift else 'turned and mirrored'} "
               "at random (exact symmetries of a periodic picture). "
               "Beside each model, the no-ML baselines on the same test samples (the D-MPNN's windows, the CNN's "
               "whole frames), their direction fixed on the training part: B–B edges per particle, the spread of "
               "first-neighbour distances (thermal vibration) and the IS energy (of the whole frame). "
               f"Paper: every AUC > {PAPER['min_auc']} for both models.", "",
               "| dataset | model | AUC | accuracy | B–B edges | vibration | IS energy | beats every baseline |",
               "|---|---|---|---|---|---|---|---|"]
        for name, row in auc["datasets"].items():
            for model, r in row.items():
                b = r["baselines"]
                best = max(v["auc"] for v in b.values())
                md.append(f"| {name} | {model} | {r['auc']:.3f} ± {r['auc_sd']:.3f} | {r['accuracy']:.3f} ± "
                          f"{r['accuracy_sd']:.3f} | {b['bb_edges']['auc']:.3f} | {b['vibration']['auc']:.3f} | "
                          f"{b['is_energy']['auc']:.3f} | {'yes' if r['auc'] > best else 'NO'} |")
        md.append("")

    cross = steps.get("cross_dataset")
    if cross:
        md += ["## Figure 6: cross-dataset AUC", "", f"![Figure 6](figures/{cross['figure']})", "",
               "Rows: the dataset a fold model was trained on; columns: the dataset whose same outer test fold it "
               "is scored on (mean over folds). The diagonal is each dataset's own nested-CV AUC.", ""]
        for model, m in cross["matrices"].items():
            md += [f"**{model}**", "", *_matrix(m["datasets"], m["auc"]), ""]
        if "baselines" in cross:
            md += ["No-ML baselines on the same test samples, their direction set on the training dataset's "
                   "outer-train fold (as a model's weights are):", "",
                   f"![Figure 6 baselines](figures/{cross['baseline_figure']})", ""]
            for model, b in cross["baselines"].items():
                where = "the D-MPNN's windows" if model == "dmpnn" else "whole frames (the CNN's samples)"
                for base, mat in b["auc"].items():
                    same = all(row == mat[0] for row in mat)
                    md += [f"**{base.replace('_', ' ')}, on {where}**", "", *_matrix(b["datasets"], mat), ""]
                    if same:
                        md += ["(Every row is the same: each training dataset sets the same direction, so a "
                               "baseline transfers perfectly and its row is its score on each test dataset.)", ""]

    size = steps.get("size")
    if size:
        md += ["## Figure 7: size generalisation of the dataset-1 D-MPNN", "", f"![Figure 7](figures/{size['figure']})",
               "", f"Trained on windows of L = {size['trained_window_fraction']} (fraction of 60); paper: AUC "
               f"{PAPER['size_auc_l03']} at L = 0.3. Beside it, the no-ML baselines on the same windows.", "",
               "| L | side | AUC | B–B edges | vibration | IS energy |", "|---|---|---|---|---|---|"]
        for r in size["sizes"]:
            side = "whole frame" if r["window_side"] is None else f"{r['window_side']:.1f}"
            b = r.get("baselines")
            base = " | ".join(f"{b[k]['auc']:.3f}" for k in ("bb_edges", "vibration", "is_energy")) if b else "— | — | —"
            md.append(f"| {_fmt(r['window_fraction'], 2)} | {side} | {r['auc']:.3f} ± {r['auc_sd']:.3f} | {base} |")
        md.append("")

    att = steps.get("attention")
    if att:
        md += ["## Figures 8, 9 and 16: attention graphs", "", f"![Figure 8](figures/{att['picture']})", "",
               f"A D-MPNN trained on dataset 1 in the original attention run's setting ({att['params']}, "
               f"{att['epochs']} epochs; test AUC {att['test_auc']:.3f}); {att['n_pairs']} glass/liquid window pairs "
               f"from {att['n_test_trajectories']} test trajectories. One-sided Wilcoxon signed-rank tests "
               "(glass < liquid). Paper: glasses have fewer components, B–B edges and isolated A, p < 0.05.", "",
               "| cut | value | metric | median glass | median liquid | p | as the paper |", "|---|---|---|---|---|---|---|"]
        for cut, r in att["cuts"].items():
            if "error" in r:
                md.append(f"| {cut} | — | (not applied: {r['error']}) | | | | |")
                continue
            for metric, t in r["tests"].items():
                same = t["pvalue"] < 0.05 and t["median_glass"] <= t["median_liquid"]
                md.append(f"| {cut} | {r['cut']:.3g} | {metric} | {t['median_glass']:.3g} | {t['median_liquid']:.3g} | "
                          f"{t['pvalue']:.2g} | {'yes' if same else 'NO'} |")
        md += [""] + [f"![Figure 9, cut {c}](figures/{r['figure']})" for c, r in att["cuts"].items()
                      if "figure" in r] + [""]

    var = steps.get("attention_variants")
    if var:
        md += ["## What the attention trend hangs on", "",
               "The attention run above, again with one thing changed at a time (training length, readout, window "
               "size, model size); the same one-sided tests (glass < liquid) at both cuts. A row where a metric "
               "flips between variants says the paper's trend depends on that choice.", "",
               *[f"![variants, cut {c}](figures/{f})" for c, f in var["figures"].items()], "",
               "| variant | test AUC | cut | metric | median glass | median liquid | p |",
               "|---|---|---|---|---|---|---|"]
        for row in var["variants"]:
            for cut, r in row["cuts"].items():
                if "error" in r:
                    md.append(f"| {row['name']} | {row['test_auc']:.3f} | {cut} | (not applied: {r['error']}) | | | |")
                    continue
                for metric, t in r["tests"].items():
                    md.append(f"| {row['name']} | {row['test_auc']:.3f} | {cut} ({r['cut']:.3g}) | {metric} | "
                              f"{t['median_glass']:.3g} | {t['median_liquid']:.3g} | {t['pvalue']:.2g} |")
        md.append("")

    mt = steps.get("metrics_vs_t")
    if mt:
        md += ["## Figures 10 and 17: B-neighbor metrics along cooling, equation 12", "",
               f"![Figures 10 and 17](figures/{mt['figure']})", "",
               f"OLS `metric ~ T + I(T > Tg) + T·I(T > Tg)` (statsmodels) on {mt['n_frames']} thermal frames of "
               f"the {mt['rate']} campaign, Tg = {mt['tg']:.3f} (Figure 1's fit). Paper: {PAPER['eq12']}.", "",
               "| graph | metric | slope below Tg | interaction | p (interaction) | R² | as the paper |",
               "|---|---|---|---|---|---|---|"]
        for definition, fits in mt["fits"].items():
            for metric, f in fits.items():
                same = f["interaction"] > 0 and f["interaction_p"] < 0.05
                md.append(f"| {definition} | {metric} | {f['slope']:.4g} | {f['interaction']:.4g} | "
                          f"{f['interaction_p']:.2g} | {f['r_squared']:.3f} | {'yes' if same else 'NO'} |")
        md.append("")

    rd = steps.get("rdfs")
    if rd:
        md += ["## Figures 11 and 12: partial RDFs, glass against liquid", ""]
        for name, r in rd["datasets"].items():
            peaks = r["first_peak"]
            md += [f"![{name}](figures/{r['figure']})", "",
                   f"{r['name']}: first-peak heights glass / liquid: " + ", ".join(
                       f"{p} {peaks['glass'][p]:.2f} / {peaks['liquid'][p]:.2f}" for p in peaks["glass"]), ""]

    from .pipeline import NOT_YET  # noqa: PLC0415

    ci = steps.get("cnn_interpretation")
    if ci:
        fm = ci["feature_maps"]
        md += ["## Figure 13 and appendix D: reading the dataset-1 CNN", "", f"![Figure 13](figures/{ci['figure']})", "",
               f"Feature maps of fold 0's most glassy test glass (P(glass) {fm['glass_p']:.2f}, "
               f"{'correct' if fm['glass_correct'] else 'WRONG'}) and least glassy test liquid (P(glass) "
               f"{fm['liquid_p']:.2f}, {'correct' if fm['liquid_correct'] else 'WRONG'}), and of one five-fold "
               "synthetic picture (the paper found the maps not interpretable).", "",
               f"Appendix D: {ci['n_images']} five-fold symmetric pictures built as the paper built them "
               f"({ci['pentagon_centres']} pentagon centres placed, {ci['intact_pentagons_mean']:.1f} intact after "
               "the overlap rule, on average), classified by each fold's CNN: "
               f"**{ci['n_glass']} of {ci['n_classified']} called glass**. Paper: all called liquid.", "",
               "| fold model | mean P(glass) | called glass |", "|---|---|---|",
               *[f"| {k} | {r['mean_p_glass']:.3f} | {r['n_glass']} of {r['n_images']} |"
                 for k, r in enumerate(ci["per_fold"])], ""]

    if NOT_YET:
        md += ["## Not reproduced by this command yet", ""] + [f"- {k}: {v}" for k, v in NOT_YET.items()] + [""]
    md += ["## Wall time per step", "", "| step | wall time (s) | share |", "|---|---|---|"]
    times = {s: r["wall_time_s"] for s, r in steps.items() if r and "wall_time_s" in r}
    total = sum(times.values()) or 1.0
    md += [f"| {s} | {t:.1f} | {t / total:.1%} |" for s, t in times.items()]
    md += ["", "## Versions", "", ", ".join(f"{k} {v}" for k, v in versions.items()), ""]

    files = {"report.md": "\n".join(md), "results.json": json.dumps(results, indent=2) + "\n",
             "summary.rst": summary_rst(steps)}
    for name, text in files.items():
        tmp = out / f".{name}.{os.getpid()}.part"
        tmp.write_text(text)
        os.replace(tmp, out / name)
    return {"report": "report.md", "results": "results.json", "summary": "summary.rst"}


def _row(cells: list[str]) -> str:
    return "   * - " + "\n     - ".join(cells)


def summary_rst(steps: dict[str, dict[str, Any] | None]) -> str:
    """The headline numbers beside the paper's as an RST list-table (for the docs' Reproduction page)."""
    rows = [["quantity", "measured here", "paper"]]
    tg = (steps.get("tg") or {}).get("rates", {})
    for rate, r in tg.items():
        rows.append([f"Tg, {rate} rate ({r['n_steps']:.0e} steps)", f"{r['tg']:.3f} ± {r['tg_err']:.3f}",
                     f"{PAPER['tg'][rate]}"])
        rows.append([f"glass IS energy, {rate} rate", f"{r['glass_is_energy']:.4f} ± {r['glass_is_energy_sd']:.4f}",
                     f"{PAPER['glass_is_energy'][rate]}"])
    ds = steps.get("datasets")
    if ds:
        m = ds["dataset6_energy_match"]
        rows.append(["dataset 6 IS energy, liquid / glass", f"{m['liquid_mean']:.4f} / {m['glass_mean']:.4f} "
                     f"({abs(m['difference']) / math.hypot(m['liquid_sem'], m['glass_sem']):.1f} combined s.e. apart: "
                     f"{'agree' if m['agrees'] else 'do not agree'} within {m['sigmas']:g})", f"{PAPER['dataset6_is_energy']} / "
                     f"{PAPER['dataset6_is_energy']}"])
    auc = steps.get("auc")
    if auc:
        for name, row in auc["datasets"].items():
            for model, r in row.items():
                b = r["baselines"]
                rows.append([f"AUC {name.replace('dataset', 'dataset ')}, {model}",
                             f"{r['auc']:.3f} ± {r['auc_sd']:.3f} (no ML: B–B {b['bb_edges']['auc']:.2f}, vibration "
                             f"{b['vibration']['auc']:.2f}, IS energy {b['is_energy']['auc']:.2f})", f"> {PAPER['min_auc']}"])
    size = steps.get("size")
    if size:
        for r in size["sizes"]:
            if r["window_fraction"] in (0.3, None):
                where = "whole frames" if r["window_fraction"] is None else "L = 0.3"
                rows.append([f"dataset-1 D-MPNN at {where}", f"{r['auc']:.3f} ± {r['auc_sd']:.3f}",
                             f"{PAPER['size_auc_l03']}" if r["window_fraction"] == 0.3 else "—"])
    att = steps.get("attention")
    if att and "tests" in att["cuts"].get("paper", {}):
        for metric, t in att["cuts"]["paper"]["tests"].items():
            rows.append([f"attention graph, {metric} (glass < liquid, cut 0.11)",
                         f"median {t['median_glass']:.3g} vs {t['median_liquid']:.3g}, p = {t['pvalue']:.2g}", "p < 0.05"])
    mt = steps.get("metrics_vs_t")
    if mt:
        for metric, f in mt["fits"].get("symmetric", {}).items():
            rows.append([f"equation 12 interaction, {metric} (symmetric graph)",
                         f"{f['interaction']:+.4g}, p = {f['interaction_p']:.2g}", "> 0, p < 0.05"])
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 40 40 20", ""]
    lines += [_row(r) for r in rows]
    return "\n".join(lines) + "\n"
