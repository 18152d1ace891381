"""Datasets: which logs, which (log, prompt) pairs, and the ground truth to score them.

``dataset=mini`` is the embedded synthetic data (generated on first use); ``dataset=av2``
points at real Argoverse 2 logs with an official-format ground-truth pkl and/or a prompts
file; ``dataset=refav`` reads the RefAV benchmark's downloads (scenmine.data.refav). Configuration errors (missing folders or files) raise ``DatasetError`` naming the key.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from scenmine.data.logs import POSE_FILE
from scenmine.data.submission import load_pkl


class DatasetError(ValueError):
    """A dataset configuration problem, found before any work starts."""


@dataclass
class Dataset:
    """Logs by id, the (log_id, prompt) pairs to predict, and the ground truth if any."""

    name: str
    split: str
    logs_dir: Path
    logs: dict[str, Path]
    pairs: list[tuple[str, str]]
    ground_truth: dict | None = None
    ground_truth_path: Path | None = None
    skipped_prompts: dict[str, str] = field(default_factory=dict)  # prompt -> reason
    tracks: Path | None = None  # tracker predictions (AV2 tracking submission) replacing annotations
    failed_pairs: dict[tuple[str, str], str] = field(default_factory=dict)  # listed, unusable -> reason

    @property
    def prompts(self) -> list[str]:
        return list(dict.fromkeys(prompt for _, prompt in self.pairs))


def check_prompt(prompt: object) -> str | None:
    """Why a prompt is unusable (empty, not text, control or invisible characters), or None.

    Other non-ASCII text ("vehicle near a café") is a valid prompt.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        return "empty prompt"
    if any(unicodedata.category(ch) == "Cc" for ch in prompt):
        return "prompt contains control characters"
    if any(unicodedata.category(ch) == "Cf" for ch in prompt):
        return "invisible characters: the prompt contains formatting characters (e.g. a zero-width space)"
    return None


# keys of an official ground-truth frame that the evaluator reads
GT_FRAME_KEYS = ("timestamp_ns", "track_id", "label", "name", "translation_m", "size", "yaw")


def ground_truth_problems(ground_truth: dict, predictions: dict) -> dict[tuple[str, str], str]:
    """Ground-truth pairs that cannot be scored, with the reason: no frames, frames lacking
    keys, or frames that do not match the log's evaluation timestamps (``predictions`` holds
    one frame per evaluation timestamp, built from the log)."""
    problems: dict[tuple[str, str], str] = {}
    for pair, frames in ground_truth.items():
        if not isinstance(frames, list) or not frames:
            problems[pair] = "no frames: the pair's frame list is empty"
            continue
        bad = [f for f in frames if not isinstance(f, dict) or any(k not in f for k in GT_FRAME_KEYS)]
        if bad:
            missing = sorted({k for f in bad for k in GT_FRAME_KEYS
                              if not isinstance(f, dict) or k not in f})
            problems[pair] = f"missing keys: {len(bad)} frames lack {missing}"
            continue
        pred = predictions.get(pair)
        if not pred:
            continue
        want = {int(f["timestamp_ns"]) for f in pred}
        have = {int(f["timestamp_ns"]) for f in frames}
        if have != want:
            problems[pair] = (f"missing frames: {len(want & have)} of the log's {len(want)} evaluation "
                              f"timestamps have a frame ({len(have - want)} frames at unknown timestamps)")
    return problems


def read_prompts(path: str | Path) -> tuple[list[str], dict[str, str]]:
    """Prompts from a text file (one per line, '#' comments); duplicates and bad ones reported."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"dataset.prompts: no such file {path}")
    prompts, skipped = [], {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        reason = check_prompt(text) or ("duplicate prompt" if text in prompts else None)
        if reason:
            skipped[text] = reason
        else:
            prompts.append(text)
    return prompts, skipped


def _is_log(folder: Path) -> bool:
    """An Argoverse 2 log folder holds its ego poses (city_SE3_egovehicle.feather)."""
    return (folder / POSE_FILE).is_file()


def _log_folders(logs_dir: Path, key: str) -> dict[str, Path]:
    """The log folders in ``logs_dir``; refused with a hint when it is their parent's parent
    (e.g. av2_mini/ instead of av2_mini/logs/), where every pair would fail."""
    if not logs_dir.is_dir():
        raise DatasetError(f"{key}: no such folder {logs_dir}")
    logs = {p.name: p for p in sorted(logs_dir.iterdir()) if p.is_dir()}
    if not logs:
        raise DatasetError(f"{key}: {logs_dir} holds no log folders")
    if not any(_is_log(p) for p in logs.values()):  # unreadable logs fail their own pairs
        inner = [p for p in logs.values() if any(_is_log(q) for q in p.iterdir() if q.is_dir())]
        if inner:
            raise DatasetError(f"{key}: none of the folders in {logs_dir} is an Argoverse 2 log; "
                               f"did you mean {key}={inner[0]}?")
    return logs


def _pairs(logs: dict[str, Path], gt: dict | None, prompts: list[str] | None,
           max_logs: int | None) -> list[tuple[str, str]]:
    """Ground-truth pairs (all of them: a missing log fails its pairs later), else logs x prompts."""
    if gt is not None:
        log_ids = list(dict.fromkeys(log_id for log_id, _ in gt))
        keep = set(log_ids[:max_logs] if max_logs else log_ids)
        pairs = [k for k in gt if k[0] in keep]
        if prompts:
            pairs = [k for k in pairs if k[1] in set(prompts)]
        return pairs
    log_ids = list(logs)[:max_logs] if max_logs else list(logs)
    return [(log_id, prompt) for prompt in prompts or [] for log_id in log_ids]


def _prompts_without_truth(prompts: list[str] | None, gt: dict) -> dict[str, str]:
    """Prompts of a prompts file that the ground truth never asks about (reported, not run)."""
    known = {prompt for _, prompt in gt}
    return {p: "not in ground truth: no (log, prompt) pair of the ground truth asks for it"
            for p in prompts or [] if p not in known}


def _load_gt(path: str | Path, key: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{key}: no such file {path}")
    try:
        return load_pkl(path)
    except Exception as exc:
        raise DatasetError(f"{key}: cannot read {path}: {exc}") from exc


def load_av2(cfg) -> Dataset:
    """Real logs: ``cfg.logs``, optional ``cfg.ground_truth`` and ``cfg.prompts``."""
    logs_dir = Path(cfg.logs)
    logs = _log_folders(logs_dir, "dataset.logs")
    gt = _load_gt(cfg.ground_truth, "dataset.ground_truth") if cfg.ground_truth else None
    prompts, skipped = read_prompts(cfg.prompts) if cfg.prompts else (None, {})
    if gt is None and not prompts:
        raise DatasetError("dataset: give dataset.ground_truth (a pkl) or dataset.prompts "
                           "(a text file, one prompt per line)")
    if gt is not None:
        for _, prompt in gt:
            reason = check_prompt(prompt)
            if reason:
                skipped[str(prompt)] = reason
        gt = {k: v for k, v in gt.items() if str(k[1]) not in skipped}
        skipped.update(_prompts_without_truth(prompts, gt))
    pairs = _pairs(logs, gt, prompts, cfg.max_logs)
    if gt is not None:
        gt = {k: gt[k] for k in pairs}
    return Dataset("av2", cfg.split, logs_dir, logs, pairs, gt,
                   Path(cfg.ground_truth) if gt is not None else None, skipped,
                   tracks=Path(cfg.tracks) if cfg.get("tracks") else None)


def load_mini(cfg) -> Dataset:
    """The embedded synthetic dataset (generated into a cache folder on first use)."""
    from scenmine.data.synthetic import ensure_mini_dataset

    root = ensure_mini_dataset(Path(cfg.root) if cfg.root else None, seed=int(cfg.seed),
                               n_logs=int(cfg.n_logs))
    splits = json.loads((root / "splits.json").read_text())
    split = cfg.split
    if split not in splits:
        raise DatasetError(f"dataset.split: {split!r} is not one of {sorted(splits)}")
    gt_path = root / "ground_truth" / f"{split}.pkl"
    all_logs = _log_folders(root / "logs", "dataset.root")
    logs = {log_id: all_logs[log_id] for log_id in splits[split]}
    gt = load_pkl(gt_path)
    prompts, skipped = read_prompts(cfg.prompts) if cfg.prompts else (None, {})
    gt = {k: v for k, v in gt.items() if k[0] in logs}
    skipped.update(_prompts_without_truth(prompts, gt))
    pairs = _pairs(logs, gt, prompts, cfg.max_logs)
    return Dataset("mini", split, root / "logs", logs, pairs, {k: gt[k] for k in pairs},
                   gt_path, skipped)


def load_dataset(cfg) -> Dataset:
    """Build the dataset with the loader the group's ``_target_`` names (``load_mini``,
    ``load_av2``...), called with the whole ``dataset`` node."""
    from hydra.utils import get_method

    from scenmine.config import ConfigError, group_target
    try:
        loader = get_method(group_target("dataset", cfg))
    except ConfigError as exc:
        raise DatasetError(str(exc)) from None
    return loader(cfg)
