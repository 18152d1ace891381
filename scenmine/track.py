"""The one place that talks to MLflow: runs, params, metrics, tags and artifacts."""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scenmine.config import cfg_dict

MAX_PARAM_CHARS = 500


def flatten(cfg: Any, prefix: str = "") -> dict[str, str]:
    """Nested config -> ``{"a.b.c": "value"}`` with values cut to MLflow's limits."""
    data = cfg_dict(cfg)
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
    else:
        out[prefix.rstrip(".")] = str(data)[:MAX_PARAM_CHARS]
    return out


class Tracker:
    """Logs one pipeline run; every method is a no-op when tracking is disabled."""

    def __init__(self, run=None):
        self.run = run

    @property
    def run_id(self) -> str | None:
        return self.run.info.run_id if self.run else None

    def log_params(self, params: dict[str, Any]) -> None:
        if self.run:
            import mlflow
            items = list(params.items())
            for i in range(0, len(items), 100):
                mlflow.log_params(dict(items[i:i + 100]))

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if self.run:
            import mlflow
            mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def set_tags(self, tags: dict[str, Any]) -> None:
        if self.run:
            import mlflow
            mlflow.set_tags({k: str(v)[:5000] for k, v in tags.items()})

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if self.run and Path(path).exists():
            import mlflow
            if Path(path).is_dir():
                mlflow.log_artifacts(str(path), artifact_path)
            else:
                mlflow.log_artifact(str(path), artifact_path)

    def log_text(self, text: str, artifact_file: str) -> None:
        if self.run:
            import mlflow
            mlflow.log_text(text, artifact_file)


def tracking_uri(tracking_cfg) -> str:
    """The configured store: ``tracking.uri``, $MLFLOW_TRACKING_URI, or SQLite in ``tracking.dir``."""
    if tracking_cfg.get("uri"):
        return tracking_cfg.uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{Path(tracking_cfg.get('dir', 'mlruns')).resolve()}/mlflow.db"


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock on a local SQLite store (``<db>.lock`` beside it) for the block.

    Runs started side by side on a fresh store would otherwise both create its schema (one
    dies with ``duplicate column name``) or both create the same experiment. Other stores
    (a tracking server, a database server) serialise this themselves: no lock.
    """
    if not uri.startswith("sqlite:///"):
        yield
        return
    db = Path(uri[len("sqlite:///"):])
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _experiment_id(name: str, artifact_root: str | None) -> str:
    import mlflow
    with store_lock(mlflow.get_tracking_uri()):
        experiment = mlflow.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        location = None
        if artifact_root:
            Path(artifact_root).mkdir(parents=True, exist_ok=True)
            location = Path(artifact_root).resolve().as_uri()
        return mlflow.create_experiment(name, artifact_location=location)


_READY: set[str] = set()  # stores whose schema this process has seen created


def configure(uri: str) -> None:
    """Point MLflow at ``uri``; a local SQLite store's folder and schema are created once,
    under :func:`store_lock`."""
    import mlflow
    from mlflow.tracking import MlflowClient
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(uri)
    if uri.startswith("sqlite:///") and uri not in _READY:
        with store_lock(uri):
            MlflowClient(tracking_uri=uri).search_experiments(max_results=1)  # creates the schema
        _READY.add(uri)


# What the entry point knows about the run it is about to start (reproducibility tags, the
# sweep it belongs to); start_run applies it to the outermost run it opens. See set_context.
_CONTEXT: dict[str, Any] = {"tags": {}, "parent_run_id": None, "run_name": None}


def set_context(tags: dict | None = None, parent_run_id: str | None = None,
                run_name: str | None = None) -> None:
    """Tags, parent run (sweep grouping) and default name for the next top-level run."""
    _CONTEXT.update(tags=dict(tags or {}), parent_run_id=parent_run_id, run_name=run_name)


def _artifact_root(tracking_cfg, uri: str) -> str | None:
    if uri.startswith("sqlite:///") and not tracking_cfg.get("uri"):
        return str(Path(tracking_cfg.get("dir", "mlruns")) / "artifacts")
    return None


@contextlib.contextmanager
def start_run(tracking_cfg, run_name: str | None = None, tags: dict | None = None,
              nested: bool = False, experiment: str | None = None) -> Iterator[Tracker]:
    """Open an MLflow run (or a disabled Tracker) for the duration of the block."""
    if not tracking_cfg.get("enabled", True):
        yield Tracker(None)
        return
    import mlflow
    uri = tracking_uri(tracking_cfg)
    configure(uri)
    exp_id = _experiment_id(experiment or tracking_cfg.experiment, _artifact_root(tracking_cfg, uri))
    tags = dict(tags or {})
    if mlflow.active_run() is None:  # the outermost run carries the context (sweep, repro tags)
        tags = {**_CONTEXT["tags"], **tags}
        if _CONTEXT["parent_run_id"]:
            tags.setdefault("mlflow.parentRunId", _CONTEXT["parent_run_id"])
        run_name = run_name or _CONTEXT["run_name"]
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name, nested=nested,
                          tags={k: str(v)[:5000] for k, v in tags.items()}) as run:
        yield Tracker(run)


def client(tracking_cfg):
    """An ``MlflowClient`` on the configured store (for reading runs: reports, export, rerun)."""
    from mlflow.tracking import MlflowClient
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri(tracking_cfg)
    configure(uri)
    return MlflowClient(tracking_uri=uri)


def download_artifact(tracking_cfg, run_id: str, artifact: str, dst: str | Path) -> Path:
    """Copy artifact ``artifact`` of run ``run_id`` (from the configured store) into ``dst``."""
    return Path(client(tracking_cfg).download_artifacts(run_id, artifact, str(dst)))


def sweep_parent(tracking_cfg, sweep_dir: str | Path, run_name: str,
                 tags: dict | None = None, sweep_key: str = "") -> str | None:
    """The parent run of a multirun sweep, created by its first job (file lock in ``sweep_dir``).

    Every job of one sweep (local, joblib or cluster launcher) shares ``sweep_dir``; the first
    one creates a FINISHED parent run tagged ``scenmine.role=sweep`` and writes its id to
    ``sweep_dir/mlflow_parent.json``; the others read it. Children point to it with
    ``mlflow.parentRunId``, so the MLflow UI shows the sweep as one expandable group.
    ``sweep_key`` tells sweeps apart that reuse one folder (a new key: a new parent).
    """
    if not tracking_cfg.get("enabled", True):
        return None
    import fcntl
    uri = tracking_uri(tracking_cfg)
    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    record = sweep_dir / "mlflow_parent.json"
    with open(sweep_dir / ".mlflow_parent.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists():
            data = json.loads(record.read_text())
            if (data.get("uri"), data.get("experiment"), data.get("key", "")) == \
                    (uri, tracking_cfg.experiment, sweep_key):
                return data["run_id"]
        mlflow_client = client(tracking_cfg)
        exp_id = _experiment_id(tracking_cfg.experiment, _artifact_root(tracking_cfg, uri))
        all_tags = {"scenmine.role": "sweep", "sweep.dir": str(sweep_dir.resolve()), **(tags or {})}
        run = mlflow_client.create_run(exp_id, run_name=run_name,
                                       tags={k: str(v)[:5000] for k, v in all_tags.items()})
        mlflow_client.set_terminated(run.info.run_id)
        record.write_text(json.dumps({"uri": uri, "experiment": tracking_cfg.experiment,
                                      "key": sweep_key, "run_id": run.info.run_id}))
        return run.info.run_id


# -- runs that died without closing (SIGKILL, power loss) -----------------------------------

RUN_RECORD = "mlflow_run.json"  # in the run folder: which MLflow run, which process, logs it


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), or None if it does not exist."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def record_run(tracker: Tracker, run_dir: str | Path) -> None:
    """Note in ``run_dir`` that this process logs it to MLflow run ``tracker.run_id``."""
    if not tracker.run:
        return
    import mlflow
    record = {"run_id": tracker.run_id, "uri": mlflow.get_tracking_uri(),
              "host": socket.gethostname(), "pid": os.getpid(),
              "started": _process_start(os.getpid())}
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / RUN_RECORD).write_text(json.dumps(record))


def close_abandoned(tracker: Tracker, *run_dirs: str | Path | None) -> list[str]:
    """Close the MLflow runs of ``run_dirs`` left RUNNING by a process that is gone.

    A run killed with SIGKILL cannot end its MLflow run; the run that resumes its folder (the
    same ``hydra.run.dir``, or ``resume=``) marks it KILLED, tagged
    ``scenmine.resumed_by=<new run id>``, and tags the new run ``scenmine.resumes``. A run
    whose process still lives (on this host) is left alone. Returns the closed run ids.
    """
    if not tracker.run:
        return []
    import mlflow
    from mlflow.tracking import MlflowClient
    uri = mlflow.get_tracking_uri()
    closed = []
    for run_dir in filter(None, run_dirs):
        try:
            record = json.loads((Path(run_dir) / RUN_RECORD).read_text())
            run_id = str(record["run_id"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if run_id == tracker.run_id or record.get("uri") != uri:
            continue
        pid = record.get("pid")
        if record.get("host") == socket.gethostname() and isinstance(pid, int) and \
                record.get("started") is not None and _process_start(pid) == record["started"]:
            continue  # its process is still running
        client = MlflowClient(tracking_uri=uri)
        try:
            if client.get_run(run_id).info.status != "RUNNING":
                continue
            client.set_tag(run_id, "scenmine.resumed_by", tracker.run_id)
            client.set_terminated(run_id, status="KILLED")
        except Exception as exc:  # noqa: BLE001 - a deleted or foreign run only loses the link
            logging.getLogger("scenmine").warning("could not close abandoned MLflow run %s: %s",
                                                  run_id, exc)
            continue
        closed.append(run_id)
    if closed:
        tracker.set_tags({"scenmine.resumes": ",".join(closed)})
        logging.getLogger("scenmine").info("closed abandoned MLflow run(s) %s as KILLED",
                                           ", ".join(closed))
    return closed


def run_dir_of(tracking_cfg, run_id: str) -> Path | None:
    """The local folder a run was written to (its ``run_dir`` tag), if it still exists."""
    path = client(tracking_cfg).get_run(run_id).data.tags.get("run_dir")
    return Path(path) if path and Path(path).is_dir() else None


def find_run_by_dir(tracking_cfg, run_dir: str | Path) -> str | None:
    """The id of the run whose ``run_dir`` tag is ``run_dir`` (None when none or no store)."""
    try:
        c = client(tracking_cfg)
        ids = [e.experiment_id for e in c.search_experiments()]
        quoted = str(Path(run_dir).resolve()).replace("'", "\\'")
        runs = c.search_runs(ids, filter_string=f"tags.run_dir = '{quoted}'", max_results=1,
                             order_by=["attributes.start_time DESC"]) if ids else []
    except Exception:  # noqa: BLE001 - no store, unreadable store: the view is just not logged
        return None
    return runs[0].info.run_id if runs else None


def log_page(tracking_cfg, run_id: str, local_dir: str | Path, artifact_path: str,
             title: str) -> str:
    """Log a static site folder as artifacts of run ``run_id`` and link its ``index.html`` from
    the run's description (the run page of the MLflow UI); the link's UI route."""
    c = client(tracking_cfg)
    c.log_artifacts(run_id, str(local_dir), artifact_path)
    run = c.get_run(run_id)
    link = (f"#/experiments/{run.info.experiment_id}/runs/{run_id}/artifactPath/"
            f"{artifact_path}/index.html")
    note = run.data.tags.get("mlflow.note.content", "")
    line = f"[{title}]({link})"
    if line not in note:
        c.set_tag(run_id, "mlflow.note.content", f"{note}\n\n{line}".strip())
    c.set_tag(run_id, f"scenmine.{artifact_path}", f"{artifact_path}/index.html")
    return link
