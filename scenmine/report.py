"""``python -m scenmine.report``: compare MLflow runs in a Markdown report with a chart.

Selects runs (a sweep, a list of run ids or names, or an experiment; conf/report.yaml), reads
their metrics and ``per_prompt_metrics.csv`` artifacts from MLflow and writes under
``outputs/reports/<name>/``:

- ``report.md``: runs x metrics with deltas against a baseline run, counts, cost columns
  (model calls, tokens, wall time) and the per-prompt breakdown of where runs disagree;
- ``metrics.png``: a grouped bar chart of the four benchmark metrics;
- ``runs.csv`` (the table's numbers, exactly as MLflow holds them) and ``per_prompt.csv``.

The folder is then logged as the artifacts of a report run (``scenmine.role=report``).
"""
from __future__ import annotations

import logging
import math
import re
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig

from scenmine import track
from scenmine.cli import USAGE_ERROR, fail, run_hydra
from scenmine.config import ConfigError
from scenmine.resources import CONF_DIR

log = logging.getLogger("scenmine.report")
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
METRIC_TITLES = {"hota_temporal": "HOTA-Temporal", "hota_track": "HOTA-Track",
                 "ts_ba": "Timestamp BA", "log_ba": "Log BA"}


class ReportError(ValueError):
    """The runs to compare cannot be found or read."""


@dataclass
class Selection:
    """The runs of a report, in display order, and what they are."""

    runs: list = field(default_factory=list)  # mlflow.entities.Run
    title: str = ""
    sweep_id: str | None = None


# -- selecting runs ------------------------------------------------------------------------

def _experiment_ids(client, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        exp = client.get_experiment_by_name(name)
        if exp is not None:
            ids.append(exp.experiment_id)
    return ids


def _all_experiment_ids(client) -> list[str]:
    from mlflow.entities import ViewType
    return [e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)]


def _search(client, exp_ids: list[str], filter_string: str = "", order=None) -> list:
    if not exp_ids:
        return []
    return list(client.search_runs(exp_ids, filter_string, max_results=5000,
                                   order_by=order or ["attributes.start_time ASC"]))


def _role(run) -> str:
    return run.data.tags.get("scenmine.role", "run")


def _job_order(run) -> tuple:
    num = run.data.tags.get("sweep.job_num")
    return (int(num) if num and num.isdigit() else math.inf, run.info.start_time or 0)


def find_run(client, ref: str, experiment: str):
    """A run by id, or by name (the latest with that name in ``experiment``, then anywhere)."""
    ref = str(ref).strip()
    if _RUN_ID.match(ref):
        try:
            return client.get_run(ref)
        except Exception as exc:  # MLflow's own exception types
            raise ReportError(f"no MLflow run {ref}") from exc
    escaped = ref.replace("'", "\\'")
    for exp_ids in (_experiment_ids(client, [experiment]), _all_experiment_ids(client)):
        found = _search(client, exp_ids, f"attributes.run_name = '{escaped}'",
                        ["attributes.start_time DESC"])
        if found:
            return found[0]
    raise ReportError(f"no MLflow run with id or name {ref!r}")


def find_sweep(client, ref: str, experiment: str):
    """A sweep's parent run: ``latest``, its run id, or its sweep directory."""
    sweeps_filter = "tags.`scenmine.role` = 'sweep'"
    if ref == "latest":
        for exp_ids in (_experiment_ids(client, [experiment]), _all_experiment_ids(client)):
            found = _search(client, exp_ids, sweeps_filter, ["attributes.start_time DESC"])
            if found:
                return found[0]
        raise ReportError(f"no sweep in the MLflow store (experiment {experiment!r}); run one "
                          "with `python -m scenmine -m ...` or give runs=[...]")
    if _RUN_ID.match(str(ref)):
        return find_run(client, ref, experiment)
    sweep_dir = str(Path(ref).resolve())
    found = _search(client, _all_experiment_ids(client),
                    f"{sweeps_filter} and tags.`sweep.dir` = '{sweep_dir}'",
                    ["attributes.start_time DESC"])
    if not found:
        raise ReportError(f"no sweep recorded for sweep dir {sweep_dir}")
    return found[0]


def select_runs(client, cfg) -> Selection:
    """The runs ``cfg`` asks for: ``runs``, else ``sweep``, else ``experiment``, else the latest sweep."""
    experiment = cfg.tracking.experiment
    if cfg.get("runs"):
        runs = [find_run(client, ref, experiment) for ref in cfg.runs]
        return Selection(runs, f"{len(runs)} runs")
    if cfg.get("experiment"):
        exp_ids = _experiment_ids(client, [cfg.experiment])
        if not exp_ids:
            raise ReportError(f"no MLflow experiment {cfg.experiment!r}")
        runs = [r for r in _search(client, exp_ids) if _role(r) not in ("sweep", "report")]
        return Selection(runs, f"experiment {cfg.experiment}")
    parent = find_sweep(client, cfg.get("sweep") or "latest", experiment)
    children = _search(client, [parent.info.experiment_id],
                       f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    children = sorted((r for r in children if _role(r) != "report"), key=_job_order)
    title = parent.info.run_name or f"sweep {parent.info.run_id}"
    return Selection(children, title, parent.info.run_id)


# -- tables --------------------------------------------------------------------------------

def run_labels(runs: list) -> list[str]:
    """Readable, unique labels: the run name (a sweep job's distinguishing overrides)."""
    names = [r.data.tags.get("sweep.varies") or r.info.run_name or r.info.run_id[:8] for r in runs]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    return [f"{n} [{r.info.run_id[:6]}]" if seen[n] > 1 else n for n, r in zip(names, runs)]


def runs_table(runs: list, labels: list[str], cfg) -> pd.DataFrame:
    """One row per run: label, id, status, then every metric, count and cost (NaN if absent)."""
    columns = list(dict.fromkeys([*cfg.metrics, *cfg.counts, *cfg.get("stages", []), *cfg.cost]))
    rows = []
    for run, label in zip(runs, labels):
        row = {"label": label, "run_id": run.info.run_id, "status": run.info.status}
        row.update({c: run.data.metrics.get(c, math.nan) for c in columns})
        rows.append(row)
    return pd.DataFrame(rows, columns=["label", "run_id", "status", *columns])


def _numbers_table(table: pd.DataFrame, columns: list[str], digits: int) -> tuple[str, list[str]]:
    """Markdown for ``columns`` recorded by at least one run, and the names none recorded."""
    shown = [c for c in columns if not table[c].isna().all()]
    absent = [c for c in columns if c not in shown]
    if not shown:
        return "", absent
    integer = {c: bool(((table[c].dropna() % 1) == 0).all()) and "seconds" not in c for c in shown}
    rows = [[row.label, *[_fmt(row[c], 1 if "seconds" in c else digits, integer[c])
                          for c in shown]] for _, row in table.iterrows()]
    return _md_table(["run", *shown], rows, ["---", *["---:"] * len(shown)]), absent


def pick_baseline(table: pd.DataFrame, runs: list, ref) -> int:
    """Row index of the baseline run: by id (or id prefix), run name, label or overlay name
    (``baseline=refprog_baseline`` for the run of ``exp=refprog_baseline``)."""
    if ref is None or str(ref) == "":
        return 0
    ref = str(ref)
    for i, run in enumerate(runs):
        if run.info.run_id.startswith(ref) or ref in (run.info.run_name, table.label[i]):
            return i
    for i, run in enumerate(runs):
        if run.data.tags.get("choice.exp") == ref:
            return i
    raise ReportError(f"baseline {ref!r} is not one of the compared runs "
                      f"({', '.join(table.label)})")


def per_prompt_table(client, runs: list, labels: list[str]) -> pd.DataFrame:
    """Long table: every row of each run's ``per_prompt_metrics.csv``, with its run label."""
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (run, label) in enumerate(zip(runs, labels)):
            try:
                path = client.download_artifacts(run.info.run_id, "per_prompt_metrics.csv",
                                                 f"{tmp}/{i}")
            except Exception:  # noqa: BLE001 - an unfinished run has no table
                log.warning("run %s (%s) has no per_prompt_metrics.csv", run.info.run_id, label)
                continue
            df = pd.read_csv(path)
            df.insert(0, "run", label)
            df.insert(1, "run_id", run.info.run_id)
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def disagreements(per_prompt: pd.DataFrame, labels: list[str], metric: str,
                  min_spread: float) -> pd.DataFrame:
    """Prompts x runs of ``metric`` where the best and worst run differ by >= ``min_spread``."""
    if per_prompt.empty or metric not in per_prompt:
        return pd.DataFrame()
    wide = per_prompt.pivot_table(index="prompt", columns="run", values=metric, aggfunc="first")
    wide = wide[[c for c in labels if c in wide.columns]]
    wide["spread"] = wide.max(axis=1) - wide.min(axis=1)
    return wide[wide.spread >= min_spread].sort_values("spread", ascending=False)


# -- writing -------------------------------------------------------------------------------

def _fmt(value, digits: int, integer: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, (int, float)):
        return f"{round(value):,}" if integer else f"{value:.{digits}f}"
    return str(value)


def _delta(value: float, base: float, digits: int) -> str:
    if math.isnan(value) or math.isnan(base):
        return ""
    d = value - base
    return f" ({'+' if d >= 0 else '−'}{abs(d):.{digits}f})"


def _md_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    align = align or ["---"] * len(header)
    esc = [[str(c).replace("|", "\\|") for c in row] for row in [header, *rows]]
    lines = ["| " + " | ".join(r) + " |" for r in esc]
    lines.insert(1, "| " + " | ".join(align) + " |")
    return "\n".join(lines)


def markdown(title: str, table: pd.DataFrame, base: int, per_prompt: pd.DataFrame,
             disagree: pd.DataFrame, cfg, chart: str | None, sweep_id: str | None) -> str:
    d = int(cfg.digits)
    metrics = list(cfg.metrics)
    out = [f"# {cfg.get('title') or 'Report: ' + title}", ""]
    source = f"sweep parent run `{sweep_id}`, " if sweep_id else ""
    out += [(f"{len(table)} runs ({source}tracking store `{track.tracking_uri(cfg.tracking)}`). "
             f"Deltas in parentheses are against the baseline **{table.label[base]}**."), ""]
    out += ["## Metrics", ""]
    header = ["run", *[METRIC_TITLES.get(m, m) for m in metrics], "run id"]
    rows = []
    for i, row in table.iterrows():
        cells = [f"**{row.label}** (baseline)" if i == base else row.label]
        for m in metrics:
            cells.append(_fmt(row[m], d) + ("" if i == base else _delta(row[m], table.at[base, m], d)))
        cells.append(f"`{row.run_id}`" + ("" if row.status == "FINISHED" else f" {row.status}"))
        rows.append(cells)
    out += [_md_table(header, rows, ["---", *["---:"] * len(metrics), "---"]), ""]
    if chart:
        out += [f"![metrics]({chart})", ""]
    for heading, key in (("Counts", "counts"), ("What each stage did", "stages"),
                         ("Cost: model calls, tokens, wall time", "cost")):
        text, absent = _numbers_table(table, list(cfg.get(key, [])), d)
        if text:
            out += [f"## {heading}", "", text, ""]
        if absent:
            out += [f"Not recorded by any of these runs: {', '.join(absent)}.", ""]
    pp = cfg.per_prompt
    out += [f"## Per prompt: where runs disagree ({METRIC_TITLES.get(pp.metric, pp.metric)})", ""]
    if per_prompt.empty:
        out += ["No run has a per_prompt_metrics.csv artifact.", ""]
    elif len(table) < 2:
        out += ["One run only: nothing to compare.", ""]
    else:
        n_prompts = per_prompt.prompt.nunique()
        out += [f"{len(disagree)} of {n_prompts} prompts differ by at least {pp.min_spread} "
                f"between the best and the worst run"
                + (f" (the {pp.max_rows} widest shown)" if len(disagree) > pp.max_rows else "")
                + "; `per_prompt.csv` holds every prompt and metric.", ""]
        if not disagree.empty:
            labels = [c for c in disagree.columns if c != "spread"]
            header = ["prompt", *labels, "spread"]
            rows = []
            for prompt, row in disagree.head(int(pp.max_rows)).iterrows():
                best = row[labels].max()
                rows.append([prompt, *[("**" + _fmt(row[c], d) + "**") if row[c] == best
                                       else _fmt(row[c], d) for c in labels], _fmt(row.spread, d)])
            out += [_md_table(header, rows, ["---", *["---:"] * (len(labels) + 1)]), ""]
            out += ["Bold: the best run on that prompt.", ""]
    return "\n".join(out)


def bar_chart(table: pd.DataFrame, metrics: list[str], path: Path, title: str) -> Path:
    """Grouped bars: one group per metric, one bar per run, values printed on the bars."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    n = len(table)
    width = 0.8 / max(n, 1)
    x = np.arange(len(metrics))
    fig, ax = plt.subplots(figsize=(min(14.0, max(7.0, 1.6 * len(metrics) + 0.22 * n * len(metrics))),
                                    4.8))
    colors = plt.get_cmap("tab10" if n <= 10 else "tab20")
    for i, (_, row) in enumerate(table.iterrows()):
        values = [0.0 if math.isnan(row[m]) else float(row[m]) for m in metrics]
        bars = ax.bar(x - 0.4 + width * (i + 0.5), values, width, label=row.label,
                      color=colors(i % colors.N), edgecolor="white", linewidth=0.5)
        if n <= 6:
            ax.bar_label(bars, labels=[_fmt(row[m], 2) for m in metrics], padding=2, fontsize=8)
    ax.set_xticks(x, [METRIC_TITLES.get(m, m) for m in metrics])
    top = max([1.0, *[float(v) for m in metrics for v in table[m] if not math.isnan(v)]])
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel("score")
    ax.set_title(textwrap.shorten(title, 90, placeholder=" ..."), fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(n, 3), frameon=False,
              fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


# -- entry points --------------------------------------------------------------------------

@dataclass
class Report:
    out_dir: Path
    markdown: Path
    chart: Path
    table: pd.DataFrame
    run_id: str | None = None


def build_report(cfg: DictConfig, out_dir: str | Path | None = None) -> Report:
    """Select the runs, write the report files, and log them (``cfg.log_run``). A config that
    breaks the schema (scenmine/schema/report.py) raises ConfigError naming the key."""
    from scenmine.schema.report import check

    check(cfg)
    out_dir = Path(out_dir or Path(cfg.out_root) / str(cfg.name))
    out_dir.mkdir(parents=True, exist_ok=True)
    client = track.client(cfg.tracking)
    selection = select_runs(client, cfg)
    runs = [r for r in selection.runs if cfg.include_failed or r.info.status == "FINISHED"]
    if not runs:
        raise ReportError(f"no finished runs to compare in {selection.title} "
                          f"({len(selection.runs)} runs found)")
    labels = run_labels(runs)
    table = runs_table(runs, labels, cfg)
    base = pick_baseline(table, runs, cfg.get("baseline"))
    per_prompt = per_prompt_table(client, runs, labels)
    disagree = disagreements(per_prompt, labels, cfg.per_prompt.metric, float(cfg.per_prompt.min_spread))
    chart = bar_chart(table, list(cfg.metrics), out_dir / "metrics.png",
                      cfg.get("title") or selection.title)
    table.to_csv(out_dir / "runs.csv", index=False)
    per_prompt.to_csv(out_dir / "per_prompt.csv", index=False)
    text = markdown(selection.title, table, base, per_prompt, disagree, cfg, chart.name,
                    selection.sweep_id)
    md = out_dir / "report.md"
    md.write_text(text + "\n")
    report = Report(out_dir, md, chart, table)
    if cfg.get("log_run", True):
        tags = {"scenmine.role": "report", "report.runs": ",".join(table.run_id),
                "report.baseline": table.run_id[base], "report.source": selection.title}
        if selection.sweep_id:
            tags["report.sweep"] = selection.sweep_id
        with track.start_run(cfg.tracking, run_name=f"report {cfg.name}", tags=tags,
                             experiment=cfg.log_experiment) as tracker:
            for path in (md, chart, out_dir / "runs.csv", out_dir / "per_prompt.csv"):
                tracker.log_artifact(path, "report")
            report.run_id = tracker.run_id
    return report


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="report")
def main(cfg: DictConfig) -> None:
    """``python -m scenmine.report [key=value ...]`` (conf/report.yaml)."""
    from hydra.core.hydra_config import HydraConfig
    try:
        report = build_report(cfg, HydraConfig.get().runtime.output_dir)
    except (ReportError, ConfigError) as exc:
        fail(USAGE_ERROR, "report: %s", exc)
        return
    print(report.markdown.read_text())
    print(f"report written to {report.out_dir}"
          + (f"; logged as MLflow run {report.run_id}" if report.run_id else ""))


if __name__ == "__main__":
    run_hydra(main)
