"""Build a run's view: choose the pairs (worst first), render them, write the pages, log them."""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from scenmine import track
from scenmine.export import looks_like_run_id

from .pages import ARTIFACT_DIR, write_pages
from .run import PairView, RunRecord, ViewConfig, pair_views, render_pairs

log = logging.getLogger("scenmine")


def select(views: list[PairView], worst: int | None) -> list[PairView]:
    """The ``worst`` worst pairs (all when None), worst first."""
    ranked = sorted(views, key=PairView.badness)
    return ranked if worst is None else ranked[:max(0, int(worst))]


def build_view(record: RunRecord, cfg: ViewConfig, prompt: str | None = None,
               log_id: str | None = None, progress: bool = True,
               view_dir: Path | None = None) -> tuple[Path, list[PairView]]:
    """Render the chosen pairs of ``record`` and write ``view/index.html``; (index, pairs)."""
    views = pair_views(record, prompt, log_id)
    if not views:
        wanted = " and ".join(filter(None, (prompt and f"prompt {prompt!r}", log_id and f"log {log_id}")))
        raise ValueError(f"no pair of the run matches {wanted or 'anything'}: "
                         f"{len(record.submission)} pairs in {record.run_dir / 'submission.pkl'}")
    views = select(views, cfg.worst)
    view_dir = view_dir or record.run_dir / ARTIFACT_DIR
    render_pairs(record, views, view_dir, cfg, progress)
    _prune(view_dir, {v.slug for v in views})
    index = write_pages(views, view_dir, record.run_dir.name if record.run_id is None
                        else f"{record.run_id[:8]} ({record.run_dir.name})", record.run_id)
    failed = [v for v in views if v.error]
    for v in failed[:5]:
        log.warning("view: pair (%s, %r) not rendered: %s", v.log_id, v.prompt, v.error)
    log.info("view: %d pairs rendered (%d failed): %s", len(views) - len(failed), len(failed), index)
    return index, views


def _prune(view_dir: Path, slugs: set[str]) -> None:
    """Remove the pages and media of pairs an earlier view showed and this one does not."""
    pages = [(p, p.stem[len("pair-"):]) for p in view_dir.glob("pair-*.html")]
    media = [(p, p.name.split(".")[0].split("-cam")[0]) for p in (view_dir / "media").glob("*")]
    for path, slug_ in pages + media:
        if slug_ not in slugs and path.is_file():
            path.unlink()


def log_to_mlflow(tracking_cfg, record: RunRecord, view_dir: Path) -> str | None:
    """Log ``view_dir`` with the run (when it has one); the MLflow UI route of the gallery."""
    if record.run_id is None or not tracking_cfg.get("enabled", True):
        return None
    return track.log_page(tracking_cfg, record.run_id, view_dir, ARTIFACT_DIR,
                          "Scenario viewer: the mined pairs, worst first")


_RUN_FILES = ("submission.pkl", "config.yaml", "per_prompt_metrics.csv", "programs", "review")


def open_run(ref: str, tracking_cfg) -> RunRecord:
    """A run folder (``outputs/runs/...``) or an MLflow run id; a run known only to MLflow
    has its recorded files downloaded into ``outputs/view/<run id>``."""
    path = Path(ref)
    if path.is_dir():
        known = tracking_cfg.get("enabled", True)
        return RunRecord.from_dir(path, track.find_run_by_dir(tracking_cfg, path) if known else None)
    if not looks_like_run_id(ref):
        raise FileNotFoundError(f"--run {ref!r}: not a run folder nor an MLflow run id")
    try:
        run_dir = track.run_dir_of(tracking_cfg, ref)
    except Exception as exc:  # noqa: BLE001 - MLflow's own exception types
        raise FileNotFoundError(f"MLflow run {ref} not found in {track.tracking_uri(tracking_cfg)} "
                                f"(pass --tracking-dir or --tracking-uri): {exc}") from exc
    if run_dir is not None and (run_dir / "submission.pkl").is_file():
        return RunRecord.from_dir(run_dir, ref)
    dst = Path("outputs") / "view" / ref
    dst.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in _RUN_FILES:
            try:
                got = track.download_artifact(tracking_cfg, ref, name, tmp)
            except Exception:  # noqa: BLE001 - optional files (review, config) may be absent
                continue
            target = dst / name
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            shutil.move(str(got), target)
    return RunRecord.from_dir(dst, ref)
