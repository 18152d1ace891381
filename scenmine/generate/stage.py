"""Stage 1 in a run: one program per prompt, reused from the run's store when generated."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from omegaconf import OmegaConf
from tqdm import tqdm

from scenmine.config import cfg_dict
from scenmine.data.dataset import load_dataset
from scenmine.execute.runner import wait_interruptibly
from scenmine.generate.backends.base import BackendError
from scenmine.generate.base import Generation
from scenmine.generate.factory import augment_k, build_generator, is_chat_backend
from scenmine.store import Store, content_hash


def training_logs(cfg) -> list[Path]:
    """Training-split log folders for dry runs and execution feedback (may be empty)."""
    if cfg.dataset.name == "mini":
        split_cfg = OmegaConf.merge(cfg.dataset, {"split": "train"})
        return list(load_dataset(split_cfg).logs.values())
    folder = cfg.dataset.get("train_logs")
    return sorted(p for p in Path(folder).iterdir() if p.is_dir()) if folder else []


def generator_for_run(cfg, logs: list[Path] | None = None):
    """The configured code generator, with the training logs for dry runs and feedback."""
    if logs is None:  # chat backends dry-run on logs, augmentation votes on them
        logs = training_logs(cfg) if is_chat_backend(cfg) or augment_k(cfg) else []
    return build_generator(cfg, logs=logs)


def generate_programs(cfg, prompts: list[str], store: Store, failures: list[dict],
                      library=None) -> dict[str, Generation]:
    """Stage 1: one program per prompt, reused from the store when already generated."""
    generator = generator_for_run(cfg)
    k = int(cfg.generate.fewshot.k) if library is not None else 0
    examples = {p: (library.retrieve(p, k) if k else []) for p in prompts}
    settings = (cfg_dict(cfg.llm), cfg_dict(cfg.generate))

    def key(prompt: str) -> str:
        shots = [(e.prompt, e.program) for e in examples[prompt]]
        return content_hash("generate", prompt, settings, shots)

    results: dict[str, Generation] = {}
    todo = []
    for prompt in prompts:
        cached = store.get("generate", key(prompt))
        if cached is not None:
            results[prompt] = cached
        else:
            todo.append(prompt)

    def one(prompt: str) -> Generation:
        start = time.perf_counter()
        try:
            gen = generator.generate(prompt, examples[prompt])
        except BackendError as exc:
            if exc.fatal:  # a configuration problem (unreachable server, bad key): stop now
                raise
            gen = Generation(prompt, None, error=f"backend: {exc}", reason=exc.reason)
        except Exception as exc:  # a backend failure fails only this prompt
            gen = Generation(prompt, None, error=f"backend: {type(exc).__name__}: {exc}")
        gen.usage.setdefault("seconds", time.perf_counter() - start)
        store.put("generate", key(prompt), gen)
        return gen

    workers = max(1, int(cfg.generate.get("concurrency", 1)))
    pool = ThreadPoolExecutor(workers)
    try:
        with tqdm(total=len(todo), desc="generate", unit="prompt",
                  disable=not cfg.output.progress or not todo) as bar:
            for future in wait_interruptibly([pool.submit(one, prompt) for prompt in todo]):
                gen = future.result()
                results[gen.prompt] = gen
                bar.update(1)
    except BaseException:  # Ctrl-C or a fatal backend error: drop the prompts not yet started
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)  # calls in flight finish and are stored
    for prompt in prompts:
        if not results[prompt].ok:
            failures.append({"stage": "generate", "log_id": "", "prompt": prompt,
                             "reason": results[prompt].error})
    return results
