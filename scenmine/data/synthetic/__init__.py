"""The embedded "mini" dataset: deterministic synthetic Argoverse 2 logs with ground truth.

``ensure_mini_dataset()`` generates it on first use into a cache folder and reuses it after::

    <root>/mini-v<GENERATOR_VERSION>-s<seed>/
      logs/<log_id>/{annotations.feather, city_SE3_egovehicle.feather, map/}
      splits.json  prompts.json  summary.json  ground_truth/<split>.pkl
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from pathlib import Path

log = logging.getLogger("scenmine")

GENERATOR_VERSION = 3
DEFAULT_N_LOGS = 10


def default_root() -> Path:
    return Path(os.environ.get("SCENMINE_CACHE") or Path.home() / ".cache" / "scenmine")


def dataset_name(seed: int = 0, n_logs: int = DEFAULT_N_LOGS) -> str:
    suffix = "" if n_logs == DEFAULT_N_LOGS else f"-n{n_logs}"
    return f"mini-v{GENERATOR_VERSION}-s{seed}{suffix}"


def ensure_mini_dataset(root: Path | None = None, seed: int = 0, n_logs: int = DEFAULT_N_LOGS) -> Path:
    """The mini dataset's folder, generated (atomically, via a temp folder) if absent."""
    from scenmine.data.synthetic.generate import generate

    root = Path(root) if root is not None else default_root()
    final = root / dataset_name(seed, n_logs)
    if (final / "splits.json").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    log.info("generating the embedded dataset (%d logs, seed %d) into %s: once, later runs reuse it",
             n_logs, seed, final)
    start = time.perf_counter()
    try:
        generate(tmp, seed=seed, n_logs=n_logs)
        log.info("embedded dataset ready in %.0f s", time.perf_counter() - start)
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished first: keep its copy
            if not (final / "splits.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


__all__ = ["GENERATOR_VERSION", "dataset_name", "default_root", "ensure_mini_dataset"]
