"""``python -m scenmine [+exp=NAME] [group=option] [key=value]``: one pipeline run."""
from __future__ import annotations

import logging
import sys
import warnings

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from scenmine.config import ConfigError
from scenmine.data.dataset import DatasetError
from scenmine.evaluate import METRIC_NAMES

log = logging.getLogger("scenmine")
# conf/config.yaml searches outputs/tuned for overlays written by +exp=tune_verifier; until a
# tuning run has written one the folder does not exist, which is expected, not worth a warning.
warnings.filterwarnings("ignore", message=r"provider=hydra\.searchpath in main, path=outputs/tuned")


def summary(metrics: dict) -> str:
    """A small readable table of the run's headline numbers."""
    names = [*METRIC_NAMES, "n_prompts", "n_pairs", "n_programs", "n_generation_failed",
             "n_execution_failed", "n_empty_predictions", "wall_seconds"]
    rows = [f"  {name:<22} {metrics[name]:.4f}" if isinstance(metrics[name], float)
            else f"  {name:<22} {metrics[name]}" for name in names if name in metrics]
    return "\n".join(["results:", *rows])


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    from scenmine import pipeline, repro

    run_dir = HydraConfig.get().runtime.output_dir
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:  # e.g. dataset=av2 without dataset.logs
        log.error("configuration error: no value for %s; give it on the command line, e.g. "
                  "%s=...", ", ".join(missing), missing[0])
        sys.exit(2)
    try:
        cfg = repro.prepare(cfg)  # +rerun=<run id>; reproducibility tags; sweep grouping
        if cfg.get("tune") is not None:  # +exp=tune_verifier: Optuna over cached verifier scores
            from scenmine import tune
            tuned = tune.run(cfg, run_dir)
            print(tune.describe(tuned))
            return tuned.best_value
        result = pipeline.run(cfg, run_dir)
    except (DatasetError, repro.RerunError, ConfigError) as exc:
        log.error("configuration error: %s", exc)
        sys.exit(2)
    except KeyboardInterrupt:
        log.error("interrupted: finished work is saved in %s/store (sandbox processes stopped). "
                  "Resume with the same command plus  hydra.run.dir=%s  (or resume=%s); finished "
                  "units are reused, not recomputed.", run_dir, run_dir, run_dir)
        sys.exit(130)
    print(summary(result.metrics))
    if result.run_id:
        print(f"MLflow run {result.run_id}; run folder {run_dir}")
    return result.metrics.get("hota_temporal")


if __name__ == "__main__":
    main()
