"""The scenario viewer: outcomes against truth, the animation, the files and pages, the CLI."""
from __future__ import annotations

import numpy as np
import pytest

from scenmine.verify.style import COLORS
from scenmine.view.outcome import FP, MISSED, TP, pair_outcome


def _frame(ts, boxes):
    """An official-format frame from (track_id, x, y, label) tuples."""
    ids, xs, ys, labs = zip(*boxes) if boxes else ((), (), (), ())
    n = len(ids)
    return {"timestamp_ns": np.int64(ts), "track_id": np.array(ids, np.int32),
            "label": np.array(labs, np.int32), "translation_m": np.c_[xs, ys, np.zeros(n)].reshape(n, 3),
            "size": np.tile([4.0, 2.0, 1.5], (n, 1)), "yaw": np.zeros(n)}


def test_outcome_matches_prediction_to_truth_by_distance():
    pred = [_frame(0, [(1, 0.0, 0.0, 0), (2, 30.0, 0.0, 0), (3, 50.0, 0.0, 1)]), _frame(5, [])]
    truth = [_frame(0, [(7, 1.0, 0.5, 0), (8, -20.0, 0.0, 0)]), _frame(5, [(7, 1.0, 0.5, 0)])]
    oc = pair_outcome(pred, truth)
    first = oc.frames[0]
    assert sorted((b.track_id, s) for b, s in first.predicted) == [(1, TP), (2, FP)]
    assert [b.track_id for b in first.missed] == [8] and [b.track_id for b in first.related] == [3]
    assert [b.track_id for b in oc.frames[1].missed] == [7]
    s = oc.summary()
    assert (s["tp"], s["fp"], s["missed"], s["predicted_frames"], s["truth_frames"]) == (1, 1, 2, 1, 2)
    assert s["timestamp_ba"] == pytest.approx(0.5)       # one of two true frames found
    alone = pair_outcome(pred, None).summary()           # no ground truth: no misses, no BA
    assert "missed" not in alone and "timestamp_ba" not in alone


def test_pairs_show_their_outcomes(small_view):
    _, v, views = small_view
    assert v["exact"].summary["fp"] == 0 and v["exact"].summary["missed"] == 0 and v["exact"].summary["tp"] > 0
    assert v["fp_and_miss"].summary["fp"] > 0 and v["fp_and_miss"].summary["missed"] > 0
    assert v["empty"].summary["predicted_frames"] == 0 and v["empty"].summary["missed"] > 0
    assert not [p.error for p in views if p.error]
    worst = min(views, key=lambda p: p.hota_temporal)
    assert views[0].prompt == worst.prompt              # worst per-prompt HOTA-Temporal first


def _colour_pixels(img: np.ndarray, key: str, tol: int = 12) -> int:
    return int((np.abs(img[..., :3].astype(int) - COLORS[key][:3]).max(axis=-1) <= tol).sum())


def test_animation_colours_outcomes_and_covers_the_whole_log(small_run):
    from scenmine.data.dataset import load_dataset
    from scenmine.data.logs import load_log
    from scenmine.data.submission import load_pkl
    from scenmine.view.animate import STRIP_H, AnimationConfig, MapLayer, frames

    run_dir, cfg, names = small_run
    ds = load_dataset(cfg.dataset)
    key = names["fp_and_miss"]
    log = load_log(ds.logs[key[0]])
    oc = pair_outcome(load_pkl(run_dir / "submission.pkl")[key], ds.ground_truth[key])
    anim = AnimationConfig((200, 200), 40.0, 10)
    video = list(frames(log, oc, MapLayer(log, anim), anim))
    assert len(video) == len(log.timestamps) and video[0].shape == (200 + STRIP_H, 200, 3)
    maps = [f[20:200] for f in video]                    # below the clock, above the timeline
    assert max(_colour_pixels(f, FP) for f in maps) > 10
    assert max(_colour_pixels(f, MISSED) for f in maps) > 10
    assert max(_colour_pixels(f, "ego") for f in maps) > 10
    assert min(_colour_pixels(f, "drivable", 3) for f in maps) > 500   # the map under every frame


def test_map_is_rasterised_once_per_log(small_run, tmp_path, monkeypatch):
    from scenmine.data.dataset import load_dataset
    from scenmine.data.submission import load_pkl
    from scenmine.view import ViewConfig, animate
    from scenmine.view.run import render_log

    run_dir, cfg, names = small_run
    ds = load_dataset(cfg.dataset)
    sub = load_pkl(run_dir / "submission.pkl")
    calls = []
    real = animate.draw_map
    monkeypatch.setattr(animate, "draw_map", lambda *a, **k: (calls.append(1), real(*a, **k)))
    keys = [names["exact"], names["fp_and_miss"]]
    assert keys[0][0] == keys[1][0]
    jobs = [(f"p{i}", sub[k], ds.ground_truth[k]) for i, k in enumerate(keys)]
    out = render_log(str(ds.logs[keys[0][0]]), None, jobs, ViewConfig.defaults(size=(128, 128)), str(tmp_path))
    assert calls == [1]
    assert all("error" not in r for r in out.values())


def test_view_files_and_pages(small_view, small_run):
    import av

    index, v, views = small_view
    html = index.read_text()
    assert html.count('class="card"') == len(views) == 4
    for p in views:
        media = index.parent / "media"
        with av.open(str(media / f"{p.slug}.mp4")) as c:
            stream = c.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert sum(1 for _ in c.decode(stream)) == p.video_frames
        assert p.video_frames >= 5 * (len(p.timeline["t"]) - 1) + 1   # 10 Hz over the whole log
        assert (media / f"{p.slug}.webp").stat().st_size < 400_000
        page = (index.parent / f"pair-{p.slug}.html").read_text()
        assert f"media/{p.slug}.mp4" in page and "&lt;b&gt;not markup&lt;/b&gt;" in page
    bad = (index.parent / f"pair-{v['fp_and_miss'].slug}.html").read_text()
    assert "related set is never used" in bad
    assert "no camera images" in bad                    # the embedded logs have no cameras


def test_real_log_with_calibration_but_no_images(av2_mini, tmp_path):
    from scenmine.data.logs import load_log
    from scenmine.view.run import _camera_images

    log = load_log(av2_mini / "logs" / "7fab2350-7eaf-3b7e-a39d-6937a4c1bede")
    files, note = _camera_images(log, [], 4, tmp_path, "x")
    assert files == [] and note == "this log has camera calibration but no camera images"


def test_cli_renders_one_prompt_and_explains_bad_runs(small_run, tmp_path, capsys):
    import shutil

    from scenmine.view.__main__ import main

    run_dir = shutil.copytree(small_run[0], tmp_path / "run", ignore=shutil.ignore_patterns("view"))
    log_id, prompt = small_run[2]["exact2"]
    assert main(["--run", str(run_dir), "--prompt", prompt, "--log", log_id, "--size", "128",
                 "--no-mlflow", "--no-progress"]) == 0
    assert "1 pairs rendered" in capsys.readouterr().out
    assert main(["--run", str(tmp_path / "run" / "programs"), "--no-mlflow"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no submission.pkl" in err
    assert main(["--run", str(run_dir), "--prompt", "no such prompt", "--no-mlflow"]) == 2
    assert "no pair of the run matches prompt 'no such prompt'" in capsys.readouterr().err


def test_view_is_logged_with_its_mlflow_run(small_view, tmp_path):
    from omegaconf import OmegaConf

    from scenmine import track

    index, _, _ = small_view
    tracking = OmegaConf.create({"uri": None, "dir": str(tmp_path / "mlruns"), "experiment": "t",
                                 "enabled": True})
    with track.start_run(tracking) as tracker:
        run_id = tracker.run_id
    link = track.log_page(tracking, run_id, index.parent, "view", "Scenario viewer")
    c = track.client(tracking)
    names = {a.path for a in c.list_artifacts(run_id, "view")}
    assert "view/index.html" in names and "view/media" in names
    assert link in c.get_run(run_id).data.tags["mlflow.note.content"]
    assert link.endswith(f"/runs/{run_id}/artifactPath/view/index.html")


@pytest.mark.slow
def test_pipeline_run_renders_its_worst_pairs_when_enabled(mini_root, tmp_path, make_cfg):
    from scenmine import pipeline, track

    cfg = make_cfg([f"dataset.root={mini_root.parent}", f"tracking.dir={tmp_path / 'mlruns'}",
                    "output.progress=false", "dataset.max_logs=2", "view.enabled=true",
                    "view.worst=2", "view.size=[128,128]", "view.workers=1"])
    result = pipeline.run(cfg, tmp_path / "out")
    html = (result.run_dir / "view" / "index.html").read_text()
    assert html.count('class="card"') == 2 and result.run_id in html
    assert "seconds.view" in result.metrics
    c = track.client(cfg.tracking)
    assert "view/index.html" in {a.path for a in c.list_artifacts(result.run_id, "view")}
    assert "artifactPath/view/index.html" in c.get_run(result.run_id).data.tags["mlflow.note.content"]


def test_camera_frames_with_projected_referred_boxes(av2_mini, tmp_path):
    """A calibrated real log given camera images: the pair page gets camera frames."""
    from PIL import Image

    from scenmine.data.submission import build_frames
    from scenmine.view.run import _camera_images
    from tests.verify.test_render import _camera_log

    log = _camera_log(tmp_path, av2_mini)
    j = 78
    ahead = [str(log.uuids[i]) for i in np.flatnonzero(log.valid[:, j])
             if 5 < log.translation_ego[i, j, 0] < 60 and abs(log.translation_ego[i, j, 1]) < 0.5 * log.translation_ego[i, j, 0]]
    frames_ = build_frames(log, {u: log.timestamps[j - 10:j + 10] for u in ahead}, {}, "p")
    media = tmp_path / "media"
    media.mkdir()
    files, note = _camera_images(log, frames_, 2, media, "pair")
    assert note == "" and len(files) == 2
    img = np.asarray(Image.open(tmp_path / files[0]))
    assert _colour_pixels(img, "referred", tol=40) > 20


def test_a_malformed_pair_fails_alone(small_run, tmp_path):
    from scenmine.data.submission import load_pkl
    from scenmine.view import RunRecord, ViewConfig, build_view

    run_dir, _, names = small_run
    record = RunRecord.from_dir(run_dir)
    good = names["exact"]
    frames_ = load_pkl(run_dir / "submission.pkl")[good]
    record.__dict__["submission"] = {good: frames_, (good[0], "hostile"): [{"timestamp_ns": "../../x"}],
                                     ("../../etc", "p"): frames_}
    index, views = build_view(record, ViewConfig.defaults(worst=None, size=(128, 128), workers=1),
                              progress=False, view_dir=tmp_path / "view")
    errors = {(v.log_id, v.prompt): v.error for v in views}
    assert errors[good] is None and errors[(good[0], "hostile")].startswith("cannot read the pair's frames")
    assert "not in the run's dataset" in errors[("../../etc", "p")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view"]        # nothing written outside
    assert index.read_text().count("not rendered</span>") == 2


def test_cli_views_a_run_known_only_to_mlflow(small_run, tmp_path, monkeypatch, capsys):
    from omegaconf import OmegaConf

    from scenmine import track
    from scenmine.view.__main__ import main

    run_dir, _, names = small_run
    tracking = OmegaConf.create({"uri": None, "dir": str(tmp_path / "mlruns"), "experiment": "t"})
    with track.start_run(tracking) as tracker:
        for name in ("submission.pkl", "per_prompt_metrics.csv", "programs", "review"):
            tracker.log_artifact(run_dir / name, "programs" if name == "programs" else
                                 "review" if name == "review" else None)
        tracker.log_artifact(run_dir / ".hydra" / "config.yaml")
        tracker.set_tags({"run_dir": str(tmp_path / "gone")})
        run_id = tracker.run_id
    monkeypatch.chdir(tmp_path)
    log_id, prompt = names["exact"]
    assert main(["--run", run_id, "--log", log_id, "--prompt", prompt, "--size", "128",
                 "--tracking-dir", str(tmp_path / "mlruns"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    view = tmp_path / "outputs" / "view" / run_id / "view"
    assert (view / "index.html").is_file() and f"in MLflow: run {run_id}" in out
    assert "description = " in next(view.glob("pair-*.html")).read_text()       # the program
    names_logged = {a.path for a in track.client(tracking).list_artifacts(run_id, "view")}
    assert "view/index.html" in names_logged


def test_rendering_again_reuses_unchanged_pairs_and_prunes_the_rest(small_run, small_view, monkeypatch,
                                                                    tmp_path):
    import shutil

    from scenmine.view import RunRecord, ViewConfig, build_view, run

    _, _, views = small_view
    run_dir = shutil.copytree(small_run[0], tmp_path / "run", symlinks=True)   # with its view/
    cfg = ViewConfig.defaults(worst=None, size=(256, 256), workers=1)
    monkeypatch.setattr(run, "MapLayer", lambda *a: (_ for _ in ()).throw(AssertionError("re-rendered")))
    index, again = build_view(RunRecord.from_dir(run_dir), cfg, progress=False)
    assert not [p.error for p in again if p.error]
    assert [p.video_frames for p in again] == [p.video_frames for p in views]
    monkeypatch.undo()
    log_id, prompt = small_run[2]["exact"]
    _, one = build_view(RunRecord.from_dir(run_dir), cfg, prompt=prompt, log_id=log_id, progress=False)
    assert sorted(p.name for p in index.parent.glob("pair-*.html")) == [f"pair-{one[0].slug}.html"]
    assert {p.name.split(".")[0] for p in (index.parent / "media").iterdir()} == {one[0].slug}
