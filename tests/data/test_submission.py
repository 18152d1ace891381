"""Official frames: the reference answers are rebuilt exactly from their label-0/1 sets."""
import numpy as np

from scenmine.data.logs import load_log
from scenmine.data.submission import (
    build_frames,
    load_pkl,
    referred_timestamps,
    save_pkl,
    to_temporal,
)


def test_build_frames_reproduces_reference_answers(av2_mini):
    gt = load_pkl(av2_mini.parent / "refav_parity" / "reference_answers.pkl")
    for (log_id, prompt), frames in list(gt.items())[::6]:
        log = load_log(av2_mini / "logs" / log_id)
        referred = {log.uuids[k]: v for k, v in referred_timestamps(frames).items()}
        related: dict = {}
        for f in frames:
            for tid in f["track_id"][f["label"] == 1]:
                related.setdefault(log.uuids[tid], []).append(int(f["timestamp_ns"]))
        mine = build_frames(log, referred, related, prompt)
        assert len(mine) == len(frames)
        for a, b in zip(mine, frames):
            ia, ib = np.argsort(a["track_id"]), np.argsort(b["track_id"])
            assert np.array_equal(a["track_id"][ia], b["track_id"][ib])
            assert np.array_equal(a["label"][ia], b["label"][ib])
            assert np.allclose(a["translation_m"][ia], b["translation_m"][ib], atol=1e-3)
            assert a["seq_id"] == (log_id, prompt)


def test_temporal_form_and_pkl_round_trip(tmp_path, real_log):
    log = load_log(real_log)
    uuid = log.uuids[0]
    frames = build_frames(log, {uuid: log.eval_timestamps[:3]}, {}, "x")
    temporal = to_temporal(frames)
    assert [t["is_positive"] for t in temporal[:4]] == [True, True, True, False]
    path = save_pkl({(log.log_id, "x"): frames}, tmp_path / "s.pkl")
    back = load_pkl(path)
    assert np.array_equal(back[(log.log_id, "x")][0]["label"], frames[0]["label"])


def test_empty_like_keeps_names_consistent_with_labels(real_log):
    """A dropped pair (verifier) stays a valid submission: every name matches its label."""
    from scenmine.data.submission import empty_like
    from scenmine.export import _check_frame

    log = load_log(real_log)
    frames = build_frames(log, {log.uuids[0]: log.eval_timestamps}, {log.uuids[1]: log.eval_timestamps}, "x")
    emptied = empty_like(frames)
    assert all((f["label"] == 2).all() and (f["name"] == "OTHER_OBJECT").all() for f in emptied)
    assert not any(_check_frame((log.log_id, "x"), f) for f in emptied)
    assert (frames[0]["label"] == 0).any()  # the input is not modified
    assert to_temporal(emptied)[0]["is_positive"] is False
