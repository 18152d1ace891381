"""``python -m scenmine.export --run <run id | run folder> [--out DIR]``: challenge submission files.

Writes the two files the Argoverse 2 scenario-mining challenge (RefAV) accepts:

- ``spatiotemporal.pkl``: ``{(log_id, prompt): [frame, ...]}``, one frame per evaluation
  timestamp with every tracked object (``timestamp_ns``, ``track_id``, ``score``, ``label``,
  ``name``, ``translation_m``, ``size``, ``yaw``; city frame);
- ``temporal.pkl``: ``{(log_id, prompt): [{"timestamp_ns", "is_positive"}, ...]}``, one entry
  per evaluation timestamp;

after validating both against the run's split: every (log, prompt) pair present, every
evaluation frame present and in order, types and shapes as the official evaluator
(``av2.evaluation.scenario_mining.eval``) reads them. A problem raises ``SubmissionError``
naming the pair and the frame. Then it prints the upload command of the EvalAI CLI.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from scenmine.data.submission import load_pkl, save_pkl, to_temporal
from scenmine.hashing import file_hash

# The Argoverse user guide (user-guide/tasks/scenario_mining) documents the upload as
#   evalai challenge 2469 phase 4899 submit --file <pkl> --large
# for the scenario-mining challenge on EvalAI (challenge page 2469). Phase ids change per
# edition and track: check https://eval.ai/web/challenges/challenge-page/2469/phases.
CHALLENGE_ID = 2469
PHASE_ID = 4899
CHALLENGE_PAGE = "https://eval.ai/web/challenges/challenge-page/{challenge}/phases"
LABELS = {0: "REFERRED_OBJECT", 1: "RELATED_OBJECT", 2: "OTHER_OBJECT"}
# key -> (dtype kinds accepted, trailing shape after N)
FRAME_ARRAYS = {"track_id": ("iu", ()), "label": ("iu", ()), "score": ("f", ()),
                "name": ("UO", ()), "translation_m": ("f", (3,)), "size": ("f", (3,)),
                "yaw": ("f", ())}
OPTIONAL_ARRAYS = {"velocity_m_per_s": ("f", (3,))}
MAX_LISTED = 20


class SubmissionError(ValueError):
    """A submission that the evaluator would reject or misread; lists every problem found."""

    def __init__(self, kind: str, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:MAX_LISTED])
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        super().__init__(f"{kind} submission is invalid ({len(problems)} problems):\n  {shown}{more}")


@dataclass
class RunSubmission:
    """A run's submission and the config it was made with."""

    source: str
    submission: dict
    cfg: DictConfig | None


# -- reading a run ---------------------------------------------------------------------------

def looks_like_run_id(ref: str) -> bool:
    """Whether ``ref`` has the shape of an MLflow run id (32 lowercase hex digits)."""
    return len(ref) == 32 and all(c in "0123456789abcdef" for c in ref)


def run_folder_config(path: Path) -> DictConfig | None:
    """The config a run folder was made with (``config.yaml`` or ``.hydra/config.yaml``);
    FileNotFoundError unless the folder holds a ``submission.pkl``."""
    if not (path / "submission.pkl").is_file():
        raise FileNotFoundError(f"{path}: no submission.pkl (is this a scenmine run folder?)")
    for candidate in (path / "config.yaml", path / ".hydra" / "config.yaml"):
        if candidate.is_file():
            cfg = OmegaConf.load(candidate)
            if cfg.get("rerun"):
                raise ValueError(f"{path} was a +rerun (its folder's config is not the run's): "
                                 "give its MLflow run id instead")
            return cfg
    return None


def load_run(ref: str, tracking_cfg=None) -> RunSubmission:
    """Submission and config of a run folder (outputs/runs/...) or an MLflow run id."""
    path = Path(ref)
    if path.is_dir():
        cfg = run_folder_config(path)
        return RunSubmission(str(path), load_pkl(path / "submission.pkl"), cfg)
    if not looks_like_run_id(ref):
        raise FileNotFoundError(f"--run {ref!r}: not a run folder nor an MLflow run id")
    from scenmine import track
    tracking_cfg = tracking_cfg or OmegaConf.create({"uri": None, "dir": "mlruns"})
    client = track.client(tracking_cfg)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            sub = client.download_artifacts(ref, "submission.pkl", tmp)
        except Exception as exc:  # MLflow's own exception types
            raise FileNotFoundError(f"MLflow run {ref} in {track.tracking_uri(tracking_cfg)}: "
                                    f"no submission.pkl artifact ({exc})") from exc
        cfg = None
        with contextlib.suppress(Exception):  # no config: --ground-truth must give the split
            cfg = OmegaConf.load(client.download_artifacts(ref, "config.yaml", tmp))
        return RunSubmission(f"MLflow run {ref}", load_pkl(sub), cfg)


def expected_frames(dataset_cfg=None, ground_truth: str | Path | None = None) -> dict:
    """``{(log_id, prompt): int64 array of evaluation timestamps}`` for every pair of the split.

    From a ground-truth pkl when there is one (the evaluator aligns frames with it), else
    from the logs (every 5th annotation timestamp, scenmine.data.logs.LogData.eval_timestamps).
    """
    if ground_truth is not None:
        gt = load_pkl(ground_truth)
        return {k: np.asarray([f["timestamp_ns"] for f in v], np.int64) for k, v in gt.items()}
    if dataset_cfg is None:
        raise ValueError("no split to validate against: the run has no config; give --ground-truth")
    from scenmine.data.dataset import load_dataset
    from scenmine.data.logs import LogLoadError, load_log

    dataset = load_dataset(dataset_cfg)
    if dataset.failed_pairs:  # listed by the split, but no frames can be known for them
        (log_id, prompt), reason = next(iter(dataset.failed_pairs.items()))
        raise ValueError(f"{len(dataset.failed_pairs)} pairs of the split cannot be answered, e.g. "
                         f"({log_id!r}, {prompt!r}): {reason}")
    if dataset.ground_truth is not None:
        return {k: np.asarray([f["timestamp_ns"] for f in dataset.ground_truth[k]], np.int64)
                for k in dataset.pairs}
    out, cache = {}, {}
    for log_id, prompt in dataset.pairs:
        if log_id not in cache:
            try:
                log_data = load_log(dataset.logs[log_id], tracks=dataset.tracks)
                cache[log_id] = np.asarray(log_data.eval_timestamps, np.int64)
            except (KeyError, LogLoadError) as exc:
                raise ValueError(f"cannot read the evaluation frames of log {log_id}: {exc}") from exc
        out[(log_id, prompt)] = cache[log_id]
    return out


# -- validation ------------------------------------------------------------------------------

def _pair_name(key) -> str:
    return f"pair ({key[0]!r}, {key[1]!r})" if isinstance(key, tuple) and len(key) == 2 else f"key {key!r}"


def _check_keys(submission, expected: dict) -> list[str]:
    problems = []
    if not isinstance(submission, dict):
        return [f"submission is a {type(submission).__name__}, not a dict"]
    for key in submission:
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(x, str) for x in key)):
            problems.append(f"{_pair_name(key)}: keys must be (log_id, prompt) tuples of str")
        elif key not in expected:
            problems.append(f"{_pair_name(key)}: not a pair of the split")
    for key in expected:
        if key not in submission:
            problems.append(f"{_pair_name(key)}: missing")
    return problems


def _check_timestamps(key, frames, want: np.ndarray) -> tuple[list[str], bool]:
    """Frame timestamps against the evaluation timestamps; (problems, frames are usable)."""
    if not isinstance(frames, list):
        return [f"{_pair_name(key)}: frames must be a list, got {type(frames).__name__}"], False
    problems = []
    got = []
    for i, frame in enumerate(frames):
        ts = frame.get("timestamp_ns") if isinstance(frame, dict) else None
        if not isinstance(frame, dict):
            problems.append(f"{_pair_name(key)} frame {i}: not a dict")
        elif not isinstance(ts, (int, np.integer)) or isinstance(ts, (bool, np.bool_)):
            problems.append(f"{_pair_name(key)} frame {i}: timestamp_ns must be an int, "
                            f"got {type(ts).__name__}")
        else:
            got.append(int(ts))
    if problems:
        return problems, False
    got_set, want_set = set(got), {int(t) for t in want}
    for ts in sorted(want_set - got_set):
        problems.append(f"{_pair_name(key)}: missing evaluation frame timestamp_ns={ts}")
    for ts in sorted(got_set - want_set):
        problems.append(f"{_pair_name(key)}: frame timestamp_ns={ts} is not an evaluation frame")
    if len(got) != len(got_set):
        problems.append(f"{_pair_name(key)}: duplicate frames")
    if not problems and got != [int(t) for t in want]:
        problems.append(f"{_pair_name(key)}: frames are not in timestamp order")
    return problems, True


def _check_frame(key, frame: dict) -> list[str]:
    where = f"{_pair_name(key)} frame timestamp_ns={int(frame['timestamp_ns'])}"
    problems = []
    arrays = {**FRAME_ARRAYS, **{k: v for k, v in OPTIONAL_ARRAYS.items() if k in frame}}
    missing = [k for k in FRAME_ARRAYS if k not in frame]
    if missing:
        return [f"{where}: missing keys {missing}"]
    n = None
    for name, (kinds, tail) in arrays.items():
        value = frame[name]
        if not isinstance(value, np.ndarray):
            problems.append(f"{where}: {name} must be a numpy array, got {type(value).__name__}")
            continue
        if value.dtype.kind not in kinds:
            problems.append(f"{where}: {name} has dtype {value.dtype}, expected kind {kinds!r}")
        if value.ndim != 1 + len(tail) or tuple(value.shape[1:]) != tail:
            problems.append(f"{where}: {name} has shape {value.shape}, expected (N{''.join(f', {t}' for t in tail)})")
            continue
        if n is None:
            n = value.shape[0]
        elif value.shape[0] != n:
            problems.append(f"{where}: {name} has {value.shape[0]} rows, track_id has {n}")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            problems.append(f"{where}: {name} holds NaN or inf")
    if problems:
        return problems
    labels = frame["label"]
    if not np.isin(labels, list(LABELS)).all():
        problems.append(f"{where}: label values {sorted(set(labels.tolist()) - set(LABELS))} "
                        f"are not 0/1/2")
    elif not all(str(nm) == LABELS[int(lb)] for lb, nm in zip(labels, frame["name"])):
        problems.append(f"{where}: name does not match label (0 REFERRED_OBJECT, 1 RELATED_OBJECT, "
                        f"2 OTHER_OBJECT)")
    if len(np.unique(frame["track_id"])) != len(frame["track_id"]):
        problems.append(f"{where}: duplicate track_id in one frame")
    return problems


def validate_spatiotemporal(submission: dict, expected: dict) -> None:
    """Raise SubmissionError unless ``submission`` holds every pair and frame, well typed."""
    problems = _check_keys(submission, expected)
    for key, want in expected.items():
        if key not in submission:
            continue
        frame_problems, usable = _check_timestamps(key, submission[key], want)
        problems += frame_problems
        if usable:
            for frame in submission[key]:
                problems += _check_frame(key, frame)
    if problems:
        raise SubmissionError("spatio-temporal", problems)


def validate_temporal(submission: dict, expected: dict) -> None:
    """Raise SubmissionError unless every pair has one ``{timestamp_ns, is_positive}`` per frame."""
    problems = _check_keys(submission, expected)
    for key, want in expected.items():
        if key not in submission:
            continue
        frame_problems, usable = _check_timestamps(key, submission[key], want)
        problems += frame_problems
        if not usable:
            continue
        for frame in submission[key]:
            where = f"{_pair_name(key)} frame timestamp_ns={int(frame['timestamp_ns'])}"
            if set(frame) != {"timestamp_ns", "is_positive"}:
                problems.append(f"{where}: keys must be exactly timestamp_ns and is_positive, "
                                f"got {sorted(frame)}")
            elif not isinstance(frame["is_positive"], (bool, np.bool_)):
                problems.append(f"{where}: is_positive must be a bool, got "
                                f"{type(frame['is_positive']).__name__}")
    if problems:
        raise SubmissionError("temporal", problems)


# -- export ----------------------------------------------------------------------------------

def upload_commands(files: dict[str, Path], challenge_id: int = CHALLENGE_ID,
                    phase_id: int | None = PHASE_ID, temporal_phase_id: int | None = None) -> str:
    """The EvalAI CLI commands that upload the files (phase ids: see the challenge page)."""
    lines = ["# EvalAI CLI (pip install evalai); your token: eval.ai > Profile > Auth token",
             "evalai set_token <your EvalAI auth token>"]
    phases = {"spatiotemporal": phase_id, "temporal": temporal_phase_id}
    for kind, path in files.items():
        phase = phases.get(kind)
        shown = phase if phase is not None else f"<{kind} phase id>"
        lines.append(f"evalai challenge {challenge_id} phase {shown} submit --file {path} --large")
    lines.append(f"# Phase ids differ per edition and track; check {CHALLENGE_PAGE.format(challenge=challenge_id)}")
    if temporal_phase_id is None and "temporal" in files:
        lines.append("# (the temporal-localization track's phase id is not documented here: "
                     "read it on that page and pass --temporal-phase-id)")
    return "\n".join(lines)


def export(run: RunSubmission, out_dir: str | Path, expected: dict) -> dict[str, Path]:
    """Validate both forms of ``run``'s submission against ``expected``; write them to ``out_dir``."""
    spatio = {k: run.submission[k] for k in run.submission}
    validate_spatiotemporal(spatio, expected)
    temporal = {k: to_temporal(frames) for k, frames in spatio.items()}
    validate_temporal(temporal, expected)
    out_dir = Path(out_dir)
    files = {"spatiotemporal": save_pkl(spatio, out_dir / "spatiotemporal.pkl"),
             "temporal": save_pkl(temporal, out_dir / "temporal.pkl")}
    manifest = {"source": run.source, "pairs": len(spatio),
                "frames": int(sum(len(v) for v in spatio.values())),
                "files": {k: {"path": str(p), "sha256": file_hash(p), "bytes": p.stat().st_size}
                          for k, p in files.items()}}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenmine.export", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="MLflow run id or run folder (outputs/runs/...)")
    parser.add_argument("--out", help="folder for spatiotemporal.pkl and temporal.pkl "
                        "(default: outputs/challenge/<run id or run folder name>)")
    parser.add_argument("--ground-truth", help="pkl whose pairs and frames define the split "
                        "(default: the run's dataset config)")
    parser.add_argument("--tracking-dir", default="mlruns", help="local MLflow store (default mlruns)")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (overrides --tracking-dir)")
    parser.add_argument("--challenge-id", type=int, default=CHALLENGE_ID)
    parser.add_argument("--phase-id", type=int, default=PHASE_ID,
                        help="EvalAI phase of the spatio-temporal track")
    parser.add_argument("--temporal-phase-id", type=int, default=None,
                        help="EvalAI phase of the temporal track")
    args = parser.parse_args(argv)
    tracking = OmegaConf.create({"uri": args.tracking_uri, "dir": args.tracking_dir})
    try:
        run = load_run(args.run, tracking)
        expected = expected_frames(run.cfg.dataset if run.cfg is not None else None,
                                   args.ground_truth)
        out = args.out or Path("outputs") / "challenge" / Path(args.run.rstrip("/")).name
        files = export(run, out, expected)
    except (SubmissionError, ValueError, FileNotFoundError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 2
    n = len(run.submission)
    print(f"validated {n} pairs ({sum(len(v) for v in expected.values())} evaluation frames) "
          f"of {run.source}")
    for kind, path in files.items():
        print(f"  {kind:<15} {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    print()
    print(upload_commands(files, args.challenge_id, args.phase_id, args.temporal_phase_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
