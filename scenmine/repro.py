"""Reproducibility: what a run depends on, as MLflow tags; sweep grouping; ``+rerun=<run id>``.

``prepare(cfg)`` is called by the entry point before the pipeline starts. It

- re-composes the configuration of an earlier run when ``+rerun=<run id>`` is given (its
  ``config.yaml`` artifact, plus any other ``key=value`` overrides of this command line);
- collects the tags every run carries: git commit and dirty flag, package versions, seed,
  input fingerprints (log ids, ground-truth sha256, few-shot library id), the Hydra overrides
  and group choices;
- in a multirun sweep, finds or creates the sweep's parent run and names the job's run after
  the overrides that distinguish it;

and hands all that to ``scenmine.track.set_context`` for the run the pipeline opens.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from scenmine import track
from scenmine.config import cfg_dict
from scenmine.hashing import content_hash, file_hash

log = logging.getLogger("scenmine")

PACKAGES = {"scenmine": "scenmine", "av2": "av2", "numpy": "numpy", "mlflow": "mlflow",
            "hydra": "hydra-core", "omegaconf": "omegaconf"}
CHOICE_GROUPS = ("exp", "backends", "dataset", "llm", "generate", "screening", "reviewer", "execute", "vlm",
                 "verifier", "prompts")


class RerunError(ValueError):
    """``+rerun=<id>`` cannot be honoured (unknown run, no config artifact, group override)."""


def git_info(repo: str | Path | None = None) -> dict[str, str]:
    """``git.commit``, ``git.dirty`` (tracked files modified) and ``git.branch``; 'unknown' outside git."""
    repo = Path(repo) if repo else Path(__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                                 timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"git.commit": "unknown", "git.dirty": "unknown"}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git.commit": commit, "git.dirty": str(bool(status)).lower(),
            "git.branch": git("rev-parse", "--abbrev-ref", "HEAD") or "unknown"}


def package_versions() -> dict[str, str]:
    out = {"version.python": sys.version.split()[0]}
    for tag, dist in PACKAGES.items():
        try:
            out[f"version.{tag}"] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[f"version.{tag}"] = _source_version() if tag == "scenmine" else "not installed"
    return out


def _source_version() -> str:
    """The version in pyproject.toml when scenmine runs from a source tree without install."""
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.exists():
        for line in pyproject.read_text().splitlines():
            if line.strip().startswith("version"):
                return line.split("=", 1)[1].strip().strip('"') + " (source tree)"
    return "unknown"


def library_id(cfg) -> str:
    """Identity of the few-shot library a run retrieves from.

    ``none`` (no screening, no library), ``sha256:<hash>`` of a given library file or folder,
    or ``screened:<hash of the screening config>`` when the run screens its own library.
    """
    screening = cfg.get("screening") or {}
    library = screening.get("library") if hasattr(screening, "get") else None
    if library:
        path = Path(str(library))
        if path.is_file():
            return f"sha256:{file_hash(path)}"
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            return "sha256:" + content_hash([[str(p.relative_to(path)), file_hash(p)] for p in files], length=64)
        return f"ref:{library}"  # an MLflow run id or runs:/ URI (scenmine.screening.library)
    name = screening.get("name", "off") if hasattr(screening, "get") else "off"
    if name in (None, "off", "none"):
        return "none"
    plain = cfg_dict(screening)
    return f"screened:{content_hash(plain, length=16)}"


def input_fingerprints(cfg) -> dict[str, str]:
    """Log ids hash, ground-truth sha256 and few-shot library id of the configured inputs."""
    from scenmine.data.dataset import load_dataset

    dataset = load_dataset(cfg.dataset)
    log_ids = sorted({log_id for log_id, _ in dataset.pairs} or set(dataset.logs))
    tags = {"data.name": dataset.name, "data.split": dataset.split,
            "data.n_logs": len(log_ids), "data.n_pairs": len(dataset.pairs),
            "data.log_ids_sha256": content_hash(log_ids, length=64),
            "data.prompts_sha256": content_hash(sorted(dataset.prompts), length=64),
            "data.fewshot_library": library_id(cfg)}
    if dataset.ground_truth_path is not None and Path(dataset.ground_truth_path).is_file():
        tags["data.ground_truth_sha256"] = file_hash(dataset.ground_truth_path)
        tags["data.ground_truth_file"] = str(dataset.ground_truth_path)
    else:
        tags["data.ground_truth_sha256"] = "none"
    return tags


def reproducibility_tags(cfg) -> dict[str, str]:
    """Every tag a run needs to be reproduced: code, environment, seed and inputs."""
    return {**git_info(), **package_versions(), "seed": str(cfg.get("seed")),
            **input_fingerprints(cfg)}


# -- Hydra: overrides, choices and sweeps --------------------------------------------------

def _hydra():
    from hydra.core.hydra_config import HydraConfig
    return HydraConfig.get() if HydraConfig.initialized() else None


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def sweep_overrides(sweep_dir: str | Path) -> list[str]:
    """The overrides the sweep was launched with (``multirun.yaml`` Hydra writes in its folder)."""
    path = Path(sweep_dir) / "multirun.yaml"
    if not path.exists():
        return []
    try:
        return list(OmegaConf.load(path).hydra.overrides.task)
    except Exception:  # noqa: BLE001 - a missing or odd file only loses a tag
        return []


def varying_overrides(task: list[str], launched: list[str]) -> list[str]:
    """The job's overrides whose key was swept (a comma list, range, choice... in ``launched``)."""
    swept = {_key(o) for o in launched
             if "," in o.split("=", 1)[-1] or any(f in o for f in ("range(", "choice(", "interval(", "glob("))}
    varying = [o for o in task if _key(o) in swept]
    return varying or list(task)


def _sweep_key(sweep_dir: str, launched: list[str]) -> str:
    """Identity of one sweep launch: Hydra rewrites multirun.yaml when a sweep starts."""
    path = Path(sweep_dir) / "multirun.yaml"
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    return content_hash(stamp, *launched, length=16)


def hydra_tags(hc) -> dict[str, str]:
    """Overrides (all, and one ``override.<key>`` tag each), group choices, job name and number."""
    task = list(hc.overrides.task)
    tags = {"hydra.overrides": " ".join(task) or "(none)", "hydra.job.name": hc.job.name}
    for override in task:
        tags[f"override.{_key(override)}"] = override.split("=", 1)[-1]
    for group in CHOICE_GROUPS:
        choice = hc.runtime.choices.get(group)
        if choice is not None:
            tags[f"choice.{group}"] = str(choice)
    return tags


def sweep_context(cfg, hc) -> tuple[dict[str, str], str | None, str | None]:
    """(tags, parent run id, run name) of a multirun job; empty outside a multirun."""
    from hydra.types import RunMode

    if hc is None or hc.mode != RunMode.MULTIRUN:
        return {}, None, None
    sweep_dir = str(Path(hc.sweep.dir).resolve())
    launched = sweep_overrides(sweep_dir)
    varying = varying_overrides(list(hc.overrides.task), launched)
    name = " ".join(varying) or f"job {hc.job.num}"
    tags = {"sweep.dir": sweep_dir, "sweep.job_num": str(hc.job.num),
            "sweep.overrides": " ".join(launched), "sweep.varies": name,
            "scenmine.role": "sweep_job"}
    swept = [o for o in launched if _key(o) in {_key(v) for v in varying}]
    title = " ".join(swept) if swept and swept != varying else Path(sweep_dir).name
    parent = track.sweep_parent(cfg.tracking, sweep_dir, f"sweep {title}",
                                {"sweep.overrides": " ".join(launched),
                                 "sweep.launcher": str(hc.runtime.choices.get("hydra/launcher"))},
                                sweep_key=_sweep_key(sweep_dir, launched))
    if parent:
        tags["sweep.parent_run_id"] = parent
    return tags, parent, name


# -- +rerun=<run id> -----------------------------------------------------------------------

def load_run_config(tracking_cfg, run_id: str) -> DictConfig:
    """The ``config.yaml`` artifact of an MLflow run."""
    client = track.client(tracking_cfg)
    try:
        client.get_run(run_id)
    except Exception as exc:  # MLflow raises its own exception types
        raise RerunError(f"rerun: no run {run_id!r} in {track.tracking_uri(tracking_cfg)} "
                         f"({type(exc).__name__}); set tracking.dir / tracking.uri") from exc
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, "config.yaml", tmp)
        except Exception as exc:  # MLflow's own exception types
            raise RerunError(f"rerun: run {run_id} has no config.yaml artifact") from exc
        return OmegaConf.load(path)


def recompose(cfg: DictConfig, hc=None) -> DictConfig:
    """The configuration of run ``cfg.rerun``, with this command's tracking settings and any
    other ``key=value`` overrides applied on top (a config group cannot change on a rerun)."""
    run_id = str(cfg.rerun)
    old = load_run_config(cfg.tracking, run_id)
    old.pop("rerun", None)
    for override in list(hc.overrides.task) if hc is not None else []:
        key = _key(override)
        if key == "rerun" or key.startswith(("hydra.", "tracking.")):
            continue
        if "=" not in override or override.startswith("~"):
            raise RerunError(f"rerun: cannot apply {override!r}; give key=value overrides only")
        if key in hc.runtime.choices or key.startswith("exp"):
            raise RerunError(f"rerun: {override!r} changes a config group; compose a new run instead")
        value = OmegaConf.select(cfg, key)
        OmegaConf.update(old, key, value, force_add=True)
    old.tracking = OmegaConf.merge(old.get("tracking") or {}, cfg.tracking)
    old.resume = None
    log.info("rerun of MLflow run %s with its logged config.yaml", run_id)
    return old


def prepare(cfg: DictConfig) -> DictConfig:
    """The configuration to run (``+rerun`` resolved) with the MLflow context set for it."""
    hc = _hydra()
    tags: dict[str, Any] = {}
    if cfg.get("rerun"):
        rerun_of = str(cfg.rerun)
        cfg = recompose(cfg, hc)
        tags["scenmine.rerun_of"] = rerun_of
    if hc is not None:
        tags.update(hydra_tags(hc))
    tags.update(reproducibility_tags(cfg))
    sweep_tags, parent, name = sweep_context(cfg, hc)
    tags.update(sweep_tags)
    if name is None and hc is not None:  # a single run: named after what it changes
        shown = [o for o in hc.overrides.task
                 if not _key(o).startswith(("tracking.", "hydra.", "output.", "rerun"))]
        name = " ".join(shown)[:250] or None
    if name is None and "scenmine.rerun_of" in tags:
        original = track.client(cfg.tracking).get_run(tags["scenmine.rerun_of"]).info.run_name
        name = f"rerun of {original or tags['scenmine.rerun_of']}"[:250]
    tags.setdefault("scenmine.role", "run")
    track.set_context(tags=tags, parent_run_id=parent, run_name=name)
    return cfg
