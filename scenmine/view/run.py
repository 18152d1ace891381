"""A run's pairs rendered for viewing: which pairs, what each shows, rendered in parallel.

``RunRecord`` reads what a run recorded (submission, config, programs, review notes,
per-prompt metrics) from its folder; ``render_pairs`` renders the chosen pairs, one worker per
log (the log and its map raster are loaded once and shared by that log's prompts), and
``scenmine.view.pages`` writes the gallery.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import json
import logging
import math
import os
import pickle
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from scenmine.data.submission import REFERRED, RELATED, load_pkl
from scenmine.store import content_hash

from .animate import AnimationConfig, MapLayer, frames
from .encode import encode
from .outcome import pair_outcome

log = logging.getLogger("scenmine")
PROMPT_METRICS = ("hota_temporal", "hota_track", "ts_ba", "log_ba")


@dataclass
class ViewConfig:
    """The ``view`` config node; its defaults live in conf/view/default.yaml (``defaults()``)."""

    enabled: bool                  # render the worst pairs at the end of a pipeline run
    worst: int | None              # how many pairs (worst first); None: all
    size: tuple[int, int]          # map view (W, H), pixels
    range_m: float                 # half-width of the view around the ego, metres
    fps: int
    camera_frames: int             # camera images per pair where the log has images
    workers: int | None            # processes across logs (None: one per core)

    @classmethod
    def from_cfg(cls, cfg) -> ViewConfig:
        d = {k: cfg[k] for k in cls.__dataclass_fields__}
        d["size"] = tuple(int(v) for v in d["size"])
        return cls(**d)

    @classmethod
    def defaults(cls, **overrides) -> ViewConfig:
        """conf/view/default.yaml with ``overrides`` (for callers without a composed config)."""
        from omegaconf import OmegaConf

        from scenmine.resources import CONF_DIR
        node = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "view" / "default.yaml"))
        return cls.from_cfg({**node, **overrides})

    @property
    def animation(self) -> AnimationConfig:
        return AnimationConfig(self.size, self.range_m, self.fps)


def _program_files(run_dir: Path) -> dict[str, str]:
    """prompt -> program text, from the run's ``programs/NNN.py`` (first line ``# prompt: ...``)."""
    out = {}
    for path in sorted((run_dir / "programs").glob("*.py")):
        head, _, body = path.read_text(errors="replace").partition("\n")
        if head.startswith("# prompt: "):
            out[head[len("# prompt: "):]] = body
    return out


def _review_notes(run_dir: Path) -> dict[str, list[str]]:
    """prompt -> review findings and the LLM reviewer's verdict (``review/changes.jsonl``)."""
    path = run_dir / "review" / "changes.jsonl"
    out: dict[str, list[str]] = {}
    if not path.is_file():
        return out
    for line in path.read_text(errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
            continue
        notes = [f"{f.get('code', '?')} (line {f.get('line', '?')}{', fixed' if f.get('fixed') else ''}): "
                 f"{f.get('message', '')}" for f in row.get("findings") or [] if isinstance(f, dict)]
        llm = row.get("llm")
        if isinstance(llm, dict):
            notes.append(f"LLM reviewer: {llm.get('verdict')}; {'; '.join(map(str, llm.get('reasons') or []))}")
        if row.get("changed"):
            notes.append("the reviewer changed this program (shown: the program that ran)")
        out[row["prompt"]] = notes
    return out


def _prompt_metrics(run_dir: Path) -> dict[str, dict[str, float]]:
    path = run_dir / "per_prompt_metrics.csv"
    out: dict[str, dict[str, float]] = {}
    if not path.is_file():
        return out
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            vals = {}
            for k in PROMPT_METRICS:
                try:
                    vals[k] = float(row[k])
                except (KeyError, TypeError, ValueError):
                    pass
            out[row.get("prompt", "")] = vals
    return out


@dataclass
class RunRecord:
    """What a run folder recorded, read lazily."""

    run_dir: Path
    cfg: DictConfig | None = None
    run_id: str | None = None
    _submission: dict | None = field(default=None, repr=False)

    @classmethod
    def from_dir(cls, run_dir: str | Path, run_id: str | None = None) -> RunRecord:
        from scenmine.export import run_folder_config
        return cls(Path(run_dir), run_folder_config(Path(run_dir)), run_id)

    @functools.cached_property
    def submission(self) -> dict:
        return self._submission if self._submission is not None else \
            load_pkl(self.run_dir / "submission.pkl")

    @functools.cached_property
    def dataset(self):
        """The run's dataset (logs and ground truth), from its config."""
        from scenmine.data.dataset import load_dataset
        if self.cfg is None:
            raise FileNotFoundError(f"{self.run_dir}: no config.yaml nor .hydra/config.yaml: "
                                    "cannot tell which logs the run mined")
        return load_dataset(self.cfg.dataset)

    @functools.cached_property
    def programs(self) -> dict[str, str]:
        return _program_files(self.run_dir)

    @functools.cached_property
    def review_notes(self) -> dict[str, list[str]]:
        return _review_notes(self.run_dir)

    @functools.cached_property
    def prompt_metrics(self) -> dict[str, dict[str, float]]:
        return _prompt_metrics(self.run_dir)

    @property
    def tracks(self) -> str | None:
        return self.cfg.dataset.get("tracks") if self.cfg is not None else None


@dataclass
class PairView:
    """One (log, prompt) pair of the gallery: what is shown and where its files are."""

    log_id: str
    prompt: str
    slug: str
    summary: dict = field(default_factory=dict)       # per-pair outcome counts
    metrics: dict = field(default_factory=dict)       # per-prompt metrics of the run
    program: str = ""
    notes: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)  # camera image files (relative to view/)
    camera_note: str = ""
    timeline: dict = field(default_factory=dict)      # timestamps where prediction / truth positive
    video_frames: int = 0                             # frames of the animation (one per log timestamp)
    error: str | None = None

    @property
    def hota_temporal(self) -> float:
        v = self.metrics.get("hota_temporal")
        return float(v) if v is not None and math.isfinite(v) else math.nan

    def badness(self) -> tuple:
        """Sort key, worst first: low per-prompt HOTA-Temporal, then low pair TS-BA, then
        many false positives and misses; unscored pairs last."""
        h = self.hota_temporal
        ba = self.summary.get("timestamp_ba")
        errors = self.summary.get("fp", 0) + self.summary.get("missed", 0)
        return (math.isnan(h), h if not math.isnan(h) else 0.0,
                ba if ba is not None else 1.0, -errors, self.prompt, self.log_id)


def slug(log_id: str, prompt: str) -> str:
    """A file-name-safe id of a pair (the submission's keys are untrusted text)."""
    return f"{re.sub(r'[^A-Za-z0-9]', '_', log_id[:8])}-{content_hash('view', log_id, prompt)[:10]}"


def pair_views(record: RunRecord, prompt: str | None = None, log_id: str | None = None) -> list[PairView]:
    """Every pair of the run's submission (filtered by prompt / log), with its outcome counts."""
    truth = record.dataset.ground_truth if record.cfg is not None else None
    views = []
    for lid, p in sorted(record.submission):
        if (prompt is not None and p != prompt) or (log_id is not None and lid != log_id):
            continue
        v = PairView(lid, p, slug(lid, p), metrics=record.prompt_metrics.get(p, {}),
                     program=record.programs.get(p, ""), notes=record.review_notes.get(p, []))
        try:
            oc = pair_outcome(record.submission[(lid, p)], (truth or {}).get((lid, p)) if truth else None)
            v.summary = oc.summary()
            v.timeline = {"t": [(int(t) - int(oc.timestamps[0])) / 1e9 for t in oc.timestamps],
                          "pred": oc.predicted_positive.tolist(),
                          "truth": None if oc.truth_positive is None else oc.truth_positive.tolist()}
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            v.error = f"cannot read the pair's frames: {exc}"
        views.append(v)
    return views


def _uuid_timestamps(frames_: list[dict], label: int, uuids: np.ndarray) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for f in frames_:
        for lab, tid in zip(np.asarray(f["label"]), np.asarray(f["track_id"])):
            if lab == label and 0 <= int(tid) < len(uuids):
                out.setdefault(str(uuids[int(tid)]), []).append(int(f["timestamp_ns"]))
    return out


def _camera_images(log, prediction: list[dict], n: int, media: Path, name: str) -> tuple[list[str], str]:
    """Camera frames with the referred boxes projected, where the log has images."""
    from scenmine.verify.camera import load_cameras
    from scenmine.verify.render import RenderConfig, render_evidence

    if n <= 0:
        return [], ""
    if not load_cameras(str(log.log_dir)):
        calibrated = (Path(log.log_dir) / "calibration" / "intrinsics.feather").is_file()
        return [], ("this log has camera calibration but no camera images" if calibrated
                    else "this log has no camera images")
    referred = _uuid_timestamps(prediction, REFERRED, log.uuids)
    if not referred:
        return [], "no referred object to show on camera images"
    related = _uuid_timestamps(prediction, RELATED, log.uuids)
    ev = render_evidence(log, referred, related, RenderConfig(
        frames=n, layout="single", source="camera", image_size=(480, 360)))
    files = []
    for k, (img, src) in enumerate(zip(ev.images, ev.sources)):
        if src == "bev":     # no camera image near that timestamp
            continue
        path = media / f"{name}-cam{k}.jpg"
        img.save(path, quality=80)
        files.append(f"media/{path.name}")
    return files, "" if files else "no camera image near the predicted timestamps"


RENDER_VERSION = 2      # bump when the drawing changes: cached renders are made again


def _render_key(log_dir: str, tracks: str | None, prediction: list, truth: list | None,
                cfg: ViewConfig) -> str:
    """Content hash of everything a pair's files depend on (frames digested as pickles)."""
    frames_digest = hashlib.sha256(pickle.dumps((prediction, truth), protocol=5)).hexdigest()
    settings = {k: v for k, v in asdict(cfg).items() if k not in ("enabled", "worst", "workers")}
    return content_hash("view", RENDER_VERSION, log_dir, tracks, settings, frames_digest)


def _cached(media: Path, name: str, key: str) -> dict | None:
    """The recorded outcome of an earlier render of the same inputs whose files still exist."""
    try:
        info = json.loads((media / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None
    files = [media / f"{name}.mp4", media / f"{name}.webp"] + [media.parent / c for c in info.get("cameras", [])]
    return info if info.get("key") == key and all(f.is_file() for f in files) else None


def render_log(log_dir: str, tracks: str | None, jobs: list[tuple[str, list, list | None]],
               cfg: ViewConfig, view_dir: str) -> dict[str, dict]:
    """Render the pairs of one log (``jobs``: (slug, predicted frames, true frames or None));
    slug -> {"cameras", "camera_note", "video_frames"} or {"error"}. Runs in a worker process;
    a pair rendered before from the same inputs is reused (``media/<slug>.json``)."""
    from scenmine.data.logs import LogLoadError, load_log

    media = Path(view_dir) / "media"
    media.mkdir(parents=True, exist_ok=True)
    keys = {name: _render_key(log_dir, tracks, p, t, cfg) for name, p, t in jobs}
    out = {name: info for name, _, _ in jobs if (info := _cached(media, name, keys[name]))}
    todo = [job for job in jobs if job[0] not in out]
    if not todo:
        return out
    try:
        lg = load_log(log_dir, tracks=tracks)
    except (LogLoadError, OSError, ValueError) as exc:
        return {**out, **{name: {"error": f"cannot load the log: {exc}"} for name, _, _ in todo}}
    anim = cfg.animation
    layer = MapLayer(lg, anim)
    for name, prediction, truth in todo:
        try:
            oc = pair_outcome(prediction, truth)
            title = "" if layer.has_map else "(no map)"
            n = encode(frames(lg, oc, layer, anim, title), media / f"{name}.mp4",
                       media / f"{name}.webp", anim.fps)
            cams, note = _camera_images(lg, prediction, cfg.camera_frames, media, name)
            out[name] = {"cameras": cams, "camera_note": note, "video_frames": n, "key": keys[name]}
            (media / f"{name}.json").write_text(json.dumps(out[name]))
        except Exception as exc:  # noqa: BLE001 - one bad pair never stops the others
            out[name] = {"error": f"render failed: {type(exc).__name__}: {exc}"}
    return out


def render_pairs(record: RunRecord, views: list[PairView], view_dir: Path, cfg: ViewConfig,
                 progress: bool = True) -> None:
    """Render ``views`` into ``view_dir/media`` in parallel across logs (progress bar)."""
    from tqdm import tqdm

    truth = record.dataset.ground_truth
    by_log: dict[str, list[PairView]] = {}
    for v in views:
        if v.error is None:
            by_log.setdefault(v.log_id, []).append(v)
    by_slug = {v.slug: v for v in views}
    tasks = []
    for lid, vs in by_log.items():
        if lid not in record.dataset.logs:
            for v in vs:
                v.error = f"log {lid} is not in the run's dataset ({record.dataset.logs_dir})"
            continue
        jobs = [(v.slug, record.submission[(v.log_id, v.prompt)],
                 truth.get((v.log_id, v.prompt)) if truth else None) for v in vs]
        tasks.append((str(record.dataset.logs[lid]), record.tracks, jobs, cfg, str(view_dir)))
    workers = max(1, min(cfg.workers or os.cpu_count() or 1, len(tasks) or 1))
    bar = tqdm(total=sum(len(t[2]) for t in tasks), desc="view: rendering pairs", unit="pair",
               disable=not progress)

    def done(result: dict):
        for name, info in result.items():
            v = by_slug[name]
            v.error = info.get("error")
            v.cameras, v.camera_note = info.get("cameras", []), info.get("camera_note", "")
            v.video_frames = info.get("video_frames", 0)
        bar.update(len(result))

    try:
        if workers == 1:
            for t in tasks:
                done(render_log(*t))
        else:
            with ProcessPoolExecutor(workers) as pool:
                for fut in as_completed([pool.submit(render_log, *t) for t in tasks]):
                    done(fut.result())
    finally:
        bar.close()
