"""``python -m scenmine`` (or ``scenmine``): one pipeline run, or a sweep with ``-m``.

Expected errors (a bad config value, missing data, an unreachable server, an unset API key) end
the run with one line and exit code 2, before any work where they can be found up front; a
Python traceback means a bug.
"""
from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from scenmine.cli import USAGE_ERROR, fail, run_hydra
from scenmine.config import ConfigError, check_config
from scenmine.data.dataset import DatasetError
from scenmine.evaluate import METRIC_NAMES
from scenmine.resources import CONF_DIR

log = logging.getLogger("scenmine")


def summary(metrics: dict) -> str:
    """A small readable table of the run's headline numbers."""
    names = [*METRIC_NAMES, "n_prompts", "n_pairs", "n_programs", "n_generation_failed",
             "n_execution_failed", "n_empty_predictions", "wall_seconds"]
    rows = [] if metrics.get("evaluated", 1) else [f"  {'metrics':<22} not evaluated (no ground truth)"]
    rows += [f"  {name:<22} {metrics[name]:.4f}" if isinstance(metrics[name], float)
            else f"  {name:<22} {metrics[name]}" for name in names if name in metrics]
    return "\n".join(["results:", *rows])


def expected_errors() -> tuple[type[BaseException], ...]:
    """Errors a user can fix from the message alone: reported in one line, no traceback."""
    from scenmine import repro
    from scenmine.execute.confine import IsolationUnavailable
    from scenmine.generate.backends.base import BackendError
    from scenmine.preflight import BackendUnavailable
    return (ConfigError, DatasetError, repro.RerunError, BackendUnavailable, BackendError,
            IsolationUnavailable, OSError)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float | None:
    from scenmine import pipeline, preflight, repro

    run_dir = HydraConfig.get().runtime.output_dir
    try:
        check_config(cfg)          # every key against its schema (scenmine/schema)
        preflight.check(cfg)       # servers answer, API keys are set
        cfg = repro.prepare(cfg)   # +rerun=<run id>; reproducibility tags; sweep grouping
        if cfg.get("tune") is not None:  # +exp=tune_verifier: Optuna over cached verifier scores
            from scenmine import tune
            tuned = tune.run(cfg, run_dir)
            print(tune.describe(tuned))
            return tuned.best_value
        result = pipeline.run(cfg, run_dir)
    except expected_errors() as exc:
        kind = "configuration error" if isinstance(exc, (ConfigError, DatasetError, repro.RerunError)) \
            else "error"
        fail(USAGE_ERROR, "%s: %s", kind, str(exc).strip().replace("\n", " "))
        return None
    except KeyboardInterrupt:
        log.error("interrupted: finished work is saved in %s/store (sandbox processes stopped). "
                  "Resume with the same command plus  hydra.run.dir=%s  (or resume=%s); finished "
                  "units are reused, not recomputed.", run_dir, run_dir, run_dir)
        sys.exit(130)
    print(summary(result.metrics))
    if result.run_id:
        print(f"MLflow run {result.run_id}; run folder {run_dir}")
    return result.metrics.get("hota_temporal")


def normalise_args(args: list[str]) -> list[str]:
    """``+exp=NAME`` is accepted as ``exp=NAME``: conf/config.yaml has an ``exp: null`` slot,
    and Hydra refuses to append a group that already has one."""
    return [arg[1:] if arg.startswith("+exp=") else arg for arg in args]


def cli(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m scenmine`` and the ``scenmine`` console script."""
    from scenmine import schema
    args = normalise_args(list(sys.argv[1:] if argv is None else argv))
    run_hydra(main, args, unknown_key=schema.unknown_key_message)


if __name__ == "__main__":
    cli()
