"""``python -m scenmine`` (or ``scenmine``): one pipeline run, or a sweep with ``-m``.

Expected errors (a bad config value, missing data, an unreachable server, an unset API key) end
the run with one line and exit code 2, before any work where they can be found up front; a
Python traceback means a bug.
"""
from __future__ import annotations

import logging
import os
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from scenmine.config import ConfigError, check_config
from scenmine.data.dataset import DatasetError
from scenmine.evaluate import METRIC_NAMES
from scenmine.resources import CONF_DIR

log = logging.getLogger("scenmine")
USAGE_ERROR = 2


class JobFailed(Exception):
    """A sweep job ended on an expected error, already reported in one line."""

    def __init__(self, code: int):
        super().__init__(f"exit code {code}")
        self.code = code


_exit_code = 0  # a single run's exit code, set by main() when it reports an error


def summary(metrics: dict) -> str:
    """A small readable table of the run's headline numbers."""
    names = [*METRIC_NAMES, "n_prompts", "n_pairs", "n_programs", "n_generation_failed",
             "n_execution_failed", "n_empty_predictions", "wall_seconds"]
    rows = [f"  {name:<22} {metrics[name]:.4f}" if isinstance(metrics[name], float)
            else f"  {name:<22} {metrics[name]}" for name in names if name in metrics]
    return "\n".join(["results:", *rows])


def expected_errors() -> tuple[type[BaseException], ...]:
    """Errors a user can fix from the message alone: reported in one line, no traceback."""
    from scenmine import repro
    from scenmine.preflight import BackendUnavailable
    return (ConfigError, DatasetError, repro.RerunError, BackendUnavailable, OSError)


def _fail(code: int, message: str, *args) -> None:
    """Report an expected error: one line; a single run exits with ``code``, a sweep job fails."""
    global _exit_code
    log.error(message, *args)
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        raise JobFailed(code)
    _exit_code = code


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
        kind = "configuration error" if isinstance(exc, ConfigError) else "error"
        _fail(USAGE_ERROR, "%s: %s", kind, str(exc).strip().replace("\n", " "))
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


def one_line(exc: BaseException) -> str:
    """A Hydra/OmegaConf composition error in one line, naming the key or option."""
    text = " ".join(str(exc).split())
    cause = exc.__cause__
    if "Could not override" in text and cause is not None and "not in struct" in str(cause):
        key = text.split("'")[1]
        from scenmine import schema
        return schema.unknown_key_message(key)
    return text.split(" Config search path:")[0]


def cli(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m scenmine`` and the ``scenmine`` console script."""
    args = normalise_args(list(sys.argv[1:] if argv is None else argv))
    sys.argv = [sys.argv[0], *args]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises; expected errors are reported below
    try:
        main()
    except JobFailed as exc:  # a sweep job failed; its error is already reported
        sys.exit(exc.code)
    except (HydraException, OmegaConfBaseException) as exc:  # composing the config failed
        print(f"scenmine: configuration error: {one_line(exc)}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    except BrokenPipeError:  # e.g. `scenmine --help | head`
        sys.stderr.close()
        sys.exit(0)
    if _exit_code:
        sys.exit(_exit_code)


if __name__ == "__main__":
    cli()
