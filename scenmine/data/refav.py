"""``dataset=refav``: the RefAV benchmark's downloads, read as they are.

RefAV's users have three downloads:

- the scenario-mining add-on (``dataset.sm_root``): ``log_prompt_pairs_{split}.json``
  (``{log_id: [prompt, ...]}``, the pairs to answer) and, for train and val,
  ``scenario_mining_{split}_annotations.feather`` (the ground truth's source);
- the Argoverse 2 sensor dataset (``dataset.av2_root``): ``<root>/{train,val,test}/<log_id>/``;
- optionally a tracker's predictions (``dataset.tracker``): an Argoverse 2 tracking
  submission ``{log_id: [frame, ...]}`` whose tracks (and scores) replace the annotations;
  required on the test split, whose logs have no annotations.

The pairs are exactly those of the pairs file. The ground truth is built from the feather
(scenmine.data.mining_truth) once per (file, content) and log, and cached under
``$SCENMINE_CACHE/refav`` (or ``dataset.cache``). A listed log missing from the sensor root,
or a pair the feather has no rows for, fails that pair with its reason; the run goes on.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from scenmine.data.dataset import Dataset, DatasetError, check_prompt
from scenmine.data.logs import POSE_FILE
from scenmine.data.mining_truth import AnnotationsError, LogTruth, convert
from scenmine.hashing import file_hash
from scenmine.store import Store, content_hash

log = logging.getLogger("scenmine")
SPLITS = ("train", "val", "test")
TRUTH_VERSION = "1"  # bump when mining_truth builds different frames, so caches are rebuilt


@dataclass(frozen=True)
class RefAVDownload:
    """Where one split's files are: ``sm_root`` (add-on) and ``av2_root`` (sensor dataset)."""

    sm_root: Path
    av2_root: Path
    split: str

    @property
    def pairs_file(self) -> Path:
        return self.sm_root / f"log_prompt_pairs_{self.split}.json"

    @property
    def annotations_file(self) -> Path:
        return self.sm_root / f"scenario_mining_{self.split}_annotations.feather"

    @cached_property
    def listed(self) -> tuple[list[tuple[str, str]], dict[str, str]]:
        """The pairs file's (log_id, prompt) pairs, and the prompts skipped with a reason."""
        return read_pairs(self.pairs_file)

    @cached_property
    def split_dir(self) -> Path:
        """The sensor dataset's folder of this split's logs (see ``sensor_split_dir``)."""
        return sensor_split_dir(self.av2_root, self.split, [k for k, _ in self.listed[0]])


def read_pairs(path: Path) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """``log_prompt_pairs_{split}.json`` -> pairs in file order; bad prompts skipped with a reason."""
    if not path.is_file():
        raise DatasetError(f"dataset.sm_root: no {path.name} in {path.parent} (the scenario-mining "
                           "download: log_prompt_pairs_<split>.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"dataset.sm_root: {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, list)
                                             for k, v in data.items()):
        raise DatasetError(f"dataset.sm_root: {path} is not a {{log_id: [prompt, ...]}} object")
    pairs, skipped = [], {}
    for log_id, prompts in data.items():
        for prompt in prompts:
            reason = check_prompt(prompt)
            if reason:
                skipped[str(prompt)] = reason
            elif (log_id, prompt) not in pairs:
                pairs.append((log_id, prompt))
    if not pairs:
        raise DatasetError(f"dataset.sm_root: {path} lists no (log, prompt) pairs")
    return pairs, skipped


def _holds_logs(folder: Path, log_ids: list[str]) -> bool:
    return any((folder / log_id).is_dir() for log_id in log_ids[:50])


def sensor_split_dir(av2_root: Path, split: str, log_ids: list[str]) -> Path:
    """The folder holding the split's log folders, from the sensor root the user gave.

    ``<root>/<split>`` is the layout; a root pointed one level too low (at the split folder
    itself) or too high (at a folder holding the dataset folder) is corrected with a
    warning; anything else is refused with a one-line hint.
    """
    hint = ("give the Argoverse 2 sensor root, the folder holding train/ val/ test/ "
            "(dataset.av2_root=.../av2/sensor)")
    if not av2_root.is_dir():
        raise DatasetError(f"dataset.av2_root: no such folder {av2_root}; {hint}")
    if (av2_root / split).is_dir():
        return av2_root / split
    if (av2_root / POSE_FILE).is_file() or (av2_root / "map").is_dir():
        raise DatasetError(f"dataset.av2_root: {av2_root} is a single log folder; {hint}")
    if _holds_logs(av2_root, log_ids):
        if av2_root.name in SPLITS and av2_root.name != split:
            raise DatasetError(f"dataset.av2_root: {av2_root} is the {av2_root.name} split but "
                               f"dataset.split={split}; {hint}")
        log.warning("dataset.av2_root %s holds the log folders itself; using it as the %s split "
                    "(the sensor root is its parent)", av2_root, split)
        return av2_root
    below = [c / split for c in sorted(av2_root.iterdir()) if (c / split).is_dir()]
    if len(below) == 1:
        log.warning("dataset.av2_root %s has no %s/ folder; using %s", av2_root, split, below[0])
        return below[0]
    raise DatasetError(f"dataset.av2_root: {av2_root} has no {split}/ folder"
                       f"{' (several below it: ' + ', '.join(map(str, below)) + ')' if below else ''}; "
                       f"{hint}")


def default_cache() -> Path:
    return Path(os.environ.get("SCENMINE_CACHE") or Path.home() / ".cache" / "scenmine") / "refav"


def file_digest(path: Path, store: Store) -> str:
    """sha256 of a (large) file's content, remembered per (path, size, mtime) in ``store``."""
    stat = path.stat()
    key = content_hash("sha256", str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = store.get("file_sha256", key)
    if not isinstance(digest, str):
        digest = file_hash(path)
        store.put("file_sha256", key, digest)
    return digest


class GroundTruthCache:
    """Each log's ground truth built from one annotations feather, stored per (file content,
    log, ego poses) in ``store``; logs not stored yet are converted in one streaming pass."""

    def __init__(self, download: RefAVDownload, log_dirs: dict[str, Path], store: Store):
        path = download.annotations_file
        if not path.is_file():
            raise DatasetError(f"dataset.sm_root: no {path.name} in {path.parent} (the "
                               f"{download.split} ground truth's source; only the test split has none)")
        self.download, self.store = download, store
        self.log_dirs = {k: v for k, v in log_dirs.items() if (v / POSE_FILE).is_file()}
        self.feather_sha = file_digest(path, store)

    def key(self, log_id: str) -> str:
        pose_sha = file_hash(self.log_dirs[log_id] / POSE_FILE)
        return content_hash("refav-ground-truth", TRUTH_VERSION, self.feather_sha, log_id, pose_sha)

    @property
    def index_key(self) -> str:
        """The store key of the index of logs stored for this file content: ``{log_id: key}``."""
        return content_hash("refav-ground-truth-index", TRUTH_VERSION, self.feather_sha)

    def build(self, progress: bool = True) -> dict[str, str]:
        """Convert the logs not stored yet (each is stored as soon as it is built, nothing is
        kept in memory); ``{log_id: problem}`` for those that cannot be converted."""
        keys = {log_id: self.key(log_id) for log_id in self.log_dirs}
        stored = self.store.get("ground_truth_index", self.index_key)
        stored = dict(stored) if isinstance(stored, dict) else {}
        todo = {k: v for k, v in self.log_dirs.items() if stored.get(k) != keys[k]}
        if not todo:
            return {}
        log.info("building the %s ground truth of %d logs from %s (cached afterwards)",
                 self.download.split, len(todo), self.download.annotations_file)

        def keep(result: LogTruth) -> None:
            if not result.problem:
                self.store.put("ground_truth", keys[result.log_id], result.frames)
                stored[result.log_id] = keys[result.log_id]
        try:
            return convert(self.download.annotations_file, todo, keep, progress)
        except AnnotationsError as exc:
            raise DatasetError(f"dataset.sm_root: {exc}") from exc
        finally:
            self.store.put("ground_truth_index", self.index_key, stored)

    def load(self) -> dict[str, dict]:
        """``{log_id: {prompt: frames}}`` of every stored log."""
        truth = {}
        for log_id in self.log_dirs:
            frames = self.store.get("ground_truth", self.key(log_id))
            if isinstance(frames, dict):
                truth[log_id] = frames
        return truth


def load_refav(cfg) -> Dataset:
    """The split's listed pairs, sensor logs, ground truth (train/val) and tracker input."""
    split = cfg.get("split")
    if split not in SPLITS:
        raise DatasetError(f"dataset.split: {split!r} is not one of {', '.join(SPLITS)}")
    for key in ("sm_root", "av2_root"):
        if not cfg.get(key):
            raise DatasetError(f"dataset.{key}: not set; give dataset.{key}=<folder>")
    tracker = Path(cfg.tracker) if cfg.get("tracker") else None
    if tracker is None and split == "test":
        raise DatasetError("dataset.tracker: the test split's logs have no annotations; pass a "
                           "tracker's predictions, dataset.tracker=<tracker>_test.pkl")
    if tracker is not None and not tracker.is_file():
        raise DatasetError(f"dataset.tracker: no such file {tracker}")
    return _load(Path(cfg.sm_root).expanduser(), Path(cfg.av2_root).expanduser(), split, tracker,
                 cfg.get("max_logs"), Path(cfg.cache) if cfg.get("cache") else default_cache(),
                 bool(cfg.get("progress", True)))


_LOADED: dict[str, Dataset] = {}  # per process: the stages load the dataset more than once


def _load(sm_root: Path, av2_root: Path, split: str, tracker: Path | None, max_logs: int | None,
          cache: Path, progress: bool) -> Dataset:
    download = RefAVDownload(sm_root, av2_root, split)
    stamp = [(p.resolve(), p.stat().st_size, p.stat().st_mtime_ns)
             for p in (download.pairs_file, download.annotations_file) if p.is_file()]
    memo = content_hash("refav", str(sm_root.resolve()), str(av2_root.resolve()), split,
                        str(tracker), max_logs, str(cache), stamp)
    if memo in _LOADED:
        hit = _LOADED[memo]
        return replace(hit, ground_truth=dict(hit.ground_truth) if hit.ground_truth else None,
                       failed_pairs=dict(hit.failed_pairs))
    pairs, skipped = download.listed
    log_ids = list(dict.fromkeys(log_id for log_id, _ in pairs))
    if max_logs:
        log_ids = log_ids[:int(max_logs)]
        pairs = [p for p in pairs if p[0] in set(log_ids)]
    split_dir = download.split_dir
    logs = {log_id: split_dir / log_id for log_id in log_ids if (split_dir / log_id).is_dir()}
    failed = {p: f"log not found: no folder {split_dir / p[0]} in the sensor dataset"
              for p in pairs if p[0] not in logs}
    for log_id, folder in logs.items():
        if not (folder / POSE_FILE).is_file():
            failed.update({p: f"no ego poses: {folder / POSE_FILE} is missing"
                           for p in pairs if p[0] == log_id})
    if len(failed) == len(pairs):
        raise DatasetError(f"dataset.av2_root: none of the {len(log_ids)} listed logs is readable "
                           f"in {split_dir} (e.g. {next(iter(failed.values()))})")
    gt = None
    if split != "test":
        readable = {k: v for k, v in logs.items() if not any(p[0] == k for p in failed)}
        truth_cache = GroundTruthCache(download, readable, Store(cache))
        problems = truth_cache.build(progress)
        truth = truth_cache.load()
        gt = {}
        for pair in pairs:
            if pair in failed:
                continue
            frames = truth.get(pair[0], {}).get(pair[1])
            if frames is None:
                why = problems.get(pair[0]) or f"no rows for this prompt in {download.annotations_file.name}"
                failed[pair] = f"no ground truth: {why}"
            else:
                gt[pair] = frames
    gt = gt or None
    dataset = Dataset("refav", split, split_dir, logs, [p for p in pairs if p not in failed], gt,
                      download.annotations_file if gt is not None else None, skipped,
                      tracks=tracker, failed_pairs=failed)
    _LOADED[memo] = dataset
    return replace(dataset, ground_truth=dict(gt) if gt else gt, failed_pairs=dict(failed))
