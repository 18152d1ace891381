"""Configuration checks and helpers shared by the stages."""
from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from scenmine import schema
from scenmine.schema import ConfigError

__all__ = ["ConfigError", "cfg_dict", "check_config"]


def cfg_dict(node) -> dict:
    """A config node as a plain dict (resolved)."""
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)


def check_config(cfg) -> None:
    """Fail fast, before any work: the schema of every key (scenmine.schema), then settings
    that would only break later (an uninstalled execute backend, a missing resume folder)."""
    schema.check(cfg)
    if cfg.execute.backend == "ray":
        from scenmine.execute import ray_backend
        if not ray_backend.available():
            raise ConfigError("execute.backend=ray needs the ray package: pip install 'scenmine[ray]' "
                              "(or set execute.backend=local)")
    resume = cfg.resume
    if resume:
        if not Path(resume).is_dir():
            raise ConfigError(f"resume: no such run folder {resume}")
        if not (Path(resume) / "store").is_dir():
            raise ConfigError(f"resume: {resume} holds no store/ folder (not a scenmine run folder)")
