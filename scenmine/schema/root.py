"""Schema of the top-level keys of conf/config.yaml (everything that is not a group)."""
from __future__ import annotations

from dataclasses import dataclass

from .core import key


@dataclass
class Paths:
    """Where files go; every other path in the config derives from these."""

    outputs: str = key("runs/, multirun/, tune/, tuned/")
    mlruns: str = key("the local MLflow store")
    cache: str = key("the embedded dataset, LLM answers and verifier scores")


@dataclass
class Tracking:
    uri: str | None = key("MLflow tracking URI (else $MLFLOW_TRACKING_URI, else a SQLite store in dir)")
    dir: str = key("the local store's folder")
    experiment: str = key("MLflow experiment name")
    run_name: str | None = key("MLflow run name (default: what the run changes); not a report key",
                               optional=True)
    enabled: bool = key("log to MLflow at all")


@dataclass
class Output:
    progress: bool = key("progress bars on long stages")


@dataclass
class Root:
    """Top-level keys; the groups (dataset, llm, ...) are checked by their own schemas."""

    seed: int = key("random seed")
    resume: str | None = key("a run folder whose finished work to reuse")
    rerun: str | None = key("+rerun=<MLflow run id>: re-run a logged config", optional=True)
    paths: Paths = key()
    tracking: Tracking = key()
    output: Output = key()
