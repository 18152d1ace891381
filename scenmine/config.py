"""Configuration checks and helpers shared by the stages."""
from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from scenmine import schema
from scenmine.resources import CONF_DIR
from scenmine.schema import ConfigError

__all__ = ["ConfigError", "cfg_dict", "check_config"]


def cfg_dict(node: Any) -> Any:
    """A config node as plain, resolved Python data (the one config-to-dict helper).

    DictConfig -> dict, ListConfig -> list; plain mappings and lists are deep copies (so the
    caller may change them); anything else (None, a number, a string) is returned as it is.
    """
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True)
    if isinstance(node, Mapping):
        return copy.deepcopy(dict(node))
    if isinstance(node, (list, tuple)):
        return copy.deepcopy(list(node))
    return node


@functools.cache
def group_options(group: str) -> dict[str, str | None]:
    """``{option: _target_}`` of the files of ``conf/<group>/``."""
    return {p.stem: OmegaConf.select(OmegaConf.load(p), "_target_")
            for p in sorted((CONF_DIR / group).glob("*.yaml"))}


def group_target(group: str, node: Any) -> str:
    """The class or function that implements a config group's choice: its ``_target_``.

    A node without one (a config logged before groups had targets, or a hand-written
    mapping such as ``{"name": "openai", ...}``) takes the ``_target_`` of the group option it
    names, ``conf/<group>/<name>.yaml``. ``name`` is the label runs are logged under: with a
    built-in target it must be a group option (your own class may carry any label).
    """
    plain = cfg_dict(node) or {}
    name, target = plain.get("name"), plain.get("_target_")
    options = group_options(group)
    if target and (name is None or name in options or target not in options.values()):
        return str(target)
    if not target and options.get(name):
        return str(options[name])
    raise ConfigError(f"{group}.name: unknown {group} {name!r} (one of: {', '.join(options)})")


def instantiate_group(group: str, node: Any, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` of a group node (``name`` is the option's label, not an
    argument), its target found by :func:`group_target`; nested ``_target_`` nodes are left
    as configs for the object to build."""
    from hydra.utils import instantiate

    plain = cfg_dict(node) or {}
    plain.pop("name", None)
    plain["_target_"] = group_target(group, node)
    return instantiate(plain, _recursive_=False, _convert_="all", **kwargs)


def register_resolvers() -> None:
    """``${pid:}``: this process's id, cached in the config (and copied into every job of a
    sweep, as Hydra does for ``${now:...}``), so that two runs started in the same second get
    different folders (``hydra.run.dir``)."""
    OmegaConf.register_new_resolver("pid", lambda: str(os.getpid()), use_cache=True, replace=True)


register_resolvers()


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
