"""The static HTML of a run's view: ``index.html`` (the gallery) and one page per pair.

Pages are self-contained (inline CSS and JS, media under ``media/``) so that they work from
the file system and as MLflow artifacts: MLflow shows ``index.html`` in a sandboxed blob
frame, where the page fetches media from MLflow's artifact endpoint (it embeds its run id) and
opens the pair pages inline (each pair's detail is also embedded in the index).
"""
from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from scenmine.verify.style import COLORS

from .run import PairView

ARTIFACT_DIR = "view"


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("scenmine.view", "templates"),
                      autoescape=select_autoescape(["j2", "html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.globals["colors"] = {k: "rgb({},{},{})".format(*v[:3]) for k, v in COLORS.items()}
    return env


def write_pages(views: list[PairView], view_dir: Path, run_name: str, run_id: str | None) -> Path:
    """Write ``index.html`` (cards in ``views`` order: worst first) and the pair pages."""
    view_dir.mkdir(parents=True, exist_ok=True)
    env = _env()
    for v in views:
        (view_dir / f"pair-{v.slug}.html").write_text(env.get_template("pair.html.j2").render(v=v))
    index = view_dir / "index.html"
    index.write_text(env.get_template("index.html.j2").render(
        views=views, run_name=run_name, run_id=run_id, artifact_dir=ARTIFACT_DIR))
    return index
