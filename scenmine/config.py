"""Configuration checks and helpers shared by the stages."""
from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf


def cfg_dict(node) -> dict:
    """A config node as a plain dict (resolved)."""
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)


class ConfigError(ValueError):
    """A configuration problem, found before any work starts; the message names the key."""


def check_config(cfg) -> None:
    """Fail fast on settings that would only break later (execution options, resume folder)."""
    ex = cfg.execute
    backend = ex.get("backend", "local")
    if backend not in ("local", "ray"):
        raise ConfigError(f"execute.backend: unknown backend {backend!r} (one of: local, ray)")
    if backend == "ray":
        from scenmine.execute import ray_backend
        if not ray_backend.available():
            raise ConfigError("execute.backend=ray needs the ray package: pip install 'scenmine[ray]' "
                              "(or set execute.backend=local)")
    workers = ex.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"execute.workers: {workers!r} is not a number of processes >= 1 "
                          "(null: one per core)")
    for key, low in (("timeout_s", 0), ("memory_mb", -1)):
        value = ex.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= low:
            raise ConfigError(f"execute.{key}: {value!r} is not a positive number")
    resume = cfg.get("resume")
    if resume:
        if not Path(resume).is_dir():
            raise ConfigError(f"resume: no such run folder {resume}")
        if not (Path(resume) / "store").is_dir():
            raise ConfigError(f"resume: {resume} holds no store/ folder (not a scenmine run folder)")
