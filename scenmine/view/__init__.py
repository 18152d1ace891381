"""Scenario viewer: animated bird's-eye views of a run's mined pairs and a static gallery.

``python -m scenmine.view --run <run id | run folder>``; ``view.enabled=true`` in a pipeline
run renders its worst pairs at the end.
"""
from .gallery import build_view, log_to_mlflow, open_run
from .run import RunRecord, ViewConfig

__all__ = ["RunRecord", "ViewConfig", "build_view", "log_to_mlflow", "open_run"]
