"""Schema of the ``execute`` group (conf/execute/default.yaml)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .core import Group, key


@dataclass
class Post:
    legacy: bool = key("older reference post-processing")
    relationship_distance: float = key("m: drop related objects never this close", gt=0)


@dataclass
class Ray:
    address: str | None = key("a running cluster (null: start a local one)")
    num_cpus: float = key("CPUs reserved by each per-log task", gt=0)
    task_timeout_s: float | None = key("hard limit per log task (s)", gt=0)


@dataclass
class Execute:
    """Sandboxed program execution."""

    backend: Literal["local", "ray"] = key("where sandboxes run")
    workers: int | None = key("sandbox processes (null: one per core)", ge=1)
    timeout_s: float = key("seconds per (program, log)", gt=0)
    memory_mb: int = key("address-space limit of each sandbox process (MB)", ge=64)
    max_result_mb: float = key("cap on one (program, log) result from its sandbox (MB)", gt=0)
    isolation: Literal["best_effort", "required"] | list[
        Literal["rlimits", "no_new_privs", "landlock", "uid", "seccomp"]] = key(
        "OS layers a sandbox must have (best_effort: warn when one is missing)")
    post: Post = key("output_scenario post-processing")
    ray: Ray = key("execute.backend=ray only")


SCHEMA = Group.single(Execute)
