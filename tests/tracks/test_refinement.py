"""Track refinement: each step on hand-built tracks, then on a real log (clean and noisy)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scenmine.data.logs import EGO_UUID, LogData, load_log
from scenmine.tracks import NoiseOptions, RefineOptions, make_noisy, options_from_cfg, refine
from scenmine.tracks.boxes import wrap

T = 50
STEPS = ("prune", "dedup", "reconnect", "smooth", "yaw", "static")


def only(*steps: str) -> RefineOptions:
    """Default options with every step but ``steps`` switched off."""
    base = RefineOptions()
    return replace(base, **{s: replace(getattr(base, s), enabled=s in steps) for s in STEPS})


def make_log(tmp_path, tracks: list[dict]) -> LogData:
    """A log of hand-built tracks; the ego stays at the city origin (ego frame = city frame).

    Each track: ``pos`` (T, 3), optional ``yaw`` (T,), ``size`` (3,), ``valid`` (T,),
    ``category``, ``score`` and ``uuid``.
    """
    n = len(tracks) + 1
    valid = np.zeros((n, T), bool)
    pos, yaw = np.full((n, T, 3), np.nan), np.full((n, T), np.nan)
    size, score = np.full((n, T, 3), np.nan), np.full((n, T), np.nan)
    for i, tr in enumerate(tracks):
        valid[i] = tr.get("valid", np.ones(T, bool))
        pos[i] = tr["pos"]
        yaw[i] = tr.get("yaw", np.zeros(T))
        size[i] = tr.get("size", (4.5, 1.9, 1.6))
        score[i] = tr.get("score", 0.9)
    valid[-1], pos[-1], yaw[-1], size[-1], score[-1] = True, 0.0, 0.0, (4.9, 2.0, 1.5), 1.0
    pos[~valid], yaw[~valid], size[~valid], score[~valid] = np.nan, np.nan, np.nan, np.nan
    uuids = np.array([tr.get("uuid", f"t{i}") for i, tr in enumerate(tracks)] + [EGO_UUID], object)
    cats = np.array([tr.get("category", "REGULAR_VEHICLE") for tr in tracks] + ["EGO_VEHICLE"])
    return LogData(log_id="hand", log_dir=tmp_path, timestamps=np.arange(T, dtype=np.int64) * 100_000_000,
                   uuids=uuids, categories=cats, valid=valid, translation_ego=pos.copy(),
                   translation_city=pos, yaw_ego=yaw.copy(), yaw_city=yaw, size=size, score=score,
                   ego_rotation=np.repeat(np.eye(3)[None], T, 0), ego_translation=np.zeros((T, 3)),
                   has_ego_annotations=False)


def line(speed=5.0, start=(10.0, 5.0), heading=0.0) -> np.ndarray:
    t = np.arange(T) * 0.1
    d = np.array([np.cos(heading), np.sin(heading), 0.0])
    return np.array([*start, 0.0])[None] + speed * t[:, None] * d[None]


def row(log: LogData, uuid: str) -> int:
    return log.track_index[uuid]


def test_a_yaw_flipped_for_a_few_frames_is_repaired(tmp_path):
    yaw = np.full(T, 0.3)
    yaw[20:24] += np.pi
    parked_yaw = np.full(T, 1.0)
    parked_yaw[5:8] += np.pi                       # no motion: continuity alone decides
    log = make_log(tmp_path, [{"pos": line(heading=0.3), "yaw": wrap(yaw), "uuid": "moving"},
                              {"pos": np.tile([0.0, 20.0, 0.0], (T, 1)), "yaw": wrap(parked_yaw),
                               "uuid": "parked"}])
    out = refine(log, only("yaw"))
    assert np.allclose(out.yaw_city[row(out, "moving")], 0.3, atol=1e-6)
    assert np.allclose(out.yaw_city[row(out, "parked")], 1.0, atol=1e-6)


def test_a_track_driving_against_its_yaw_is_turned_round(tmp_path):
    """A whole track flipped (the detector's heading ambiguity) follows its motion."""
    log = make_log(tmp_path, [{"pos": line(speed=8.0), "yaw": np.full(T, np.pi)}])
    out = refine(log, only("yaw"))
    assert np.allclose(np.abs(wrap(out.yaw_city[0])), 0.0, atol=1e-6)


def test_a_parked_cars_yaw_freezes_but_a_standing_pedestrian_still_turns(tmp_path):
    rng = np.random.default_rng(0)
    still = np.tile([5.0, 5.0, 0.0], (T, 1)) + rng.normal(0, 0.05, (T, 3))
    car_yaw = 0.5 + rng.normal(0, 0.08, T)
    ped_yaw = np.linspace(0, 2.0, T)
    log = make_log(tmp_path, [{"pos": still, "yaw": car_yaw, "uuid": "car"},
                              {"pos": still + [0, 8, 0], "yaw": ped_yaw, "category": "PEDESTRIAN",
                               "size": (0.6, 0.6, 1.7), "uuid": "ped"},
                              {"pos": line(), "yaw": car_yaw, "uuid": "driving"}])
    out = refine(log, only("static"))
    car = out.yaw_city[row(out, "car")]
    assert np.ptp(car) < 1e-9 and abs(car[0] - 0.5) < 0.05
    assert np.allclose(out.yaw_city[row(out, "ped")], ped_yaw)
    assert np.allclose(out.yaw_city[row(out, "driving")], car_yaw)


def test_a_track_split_by_a_three_frame_gap_is_reconnected(tmp_path):
    pos = line(speed=6.0)
    head, tail = np.arange(T) < 20, np.arange(T) >= 23
    other = line(speed=6.0, start=(10.0, 30.0))     # same motion, 25 m away: not joined
    log = make_log(tmp_path, [{"pos": pos, "valid": head, "uuid": "head"},
                              {"pos": pos, "valid": tail, "uuid": "tail"},
                              {"pos": other, "valid": tail, "uuid": "far"},
                              {"pos": pos, "valid": tail, "category": "BUS", "uuid": "bus"}])
    out = refine(log, only("reconnect"))
    assert "tail" not in out.track_index and {"head", "far", "bus"} <= set(out.track_index)
    r = row(out, "head")
    assert out.valid[r].all()                        # the gap is filled ...
    assert np.allclose(out.translation_city[r, 20:23], pos[20:23], atol=1e-6)  # ... on the line
    assert out.valid[row(out, "far")].sum() == tail.sum()


def test_an_identity_switch_is_split_and_rejoined(tmp_path):
    a, b = line(speed=6.0), line(speed=6.0, start=(10.0, 9.0))
    swapped_a, swapped_b = a.copy(), b.copy()
    swapped_a[25:], swapped_b[25:] = b[25:], a[25:]
    log = make_log(tmp_path, [{"pos": swapped_a, "uuid": "a"}, {"pos": swapped_b, "uuid": "b"}])
    out = refine(log, only("reconnect"))
    tracks = [out.translation_city[i] for i in range(out.n_tracks - 1)]
    assert len(tracks) == 2
    for track in tracks:                              # each row follows one object again
        assert np.nanmax(np.abs(np.diff(track[:, 1]))) < 1e-6


def test_a_switch_between_close_noisy_tracks_is_split_and_rejoined(tmp_path):
    """Two cars 2 m apart swap identities; their centres jitter by 0.2 m (tracker noise): the
    line fitted to the previous boxes tells the 2 m jump from the jitter."""
    rng = np.random.default_rng(4)
    a, b = line(speed=6.0), line(speed=6.0, start=(10.0, 7.0))
    a, b = (p + rng.normal(0, 0.2, p.shape) * [1, 1, 0] for p in (a, b))
    swapped_a, swapped_b = a.copy(), b.copy()
    swapped_a[25:], swapped_b[25:] = b[25:], a[25:]
    log = make_log(tmp_path, [{"pos": swapped_a, "uuid": "a"}, {"pos": swapped_b, "uuid": "b"}])
    out = refine(log, only("reconnect"))
    assert out.n_tracks - 1 == 2
    for i in range(2):                                # each row follows one object again
        assert np.ptp(out.translation_city[i, :, 1]) < 1.5
    unsplit = refine(log, replace(only("reconnect"), reconnect=replace(
        RefineOptions().reconnect, split_jump_m=3.0)))
    assert max(np.ptp(unsplit.translation_city[i, :, 1]) for i in range(2)) > 1.5


def test_smoothed_yaws_let_a_noisy_turn_be_seen(tmp_path):
    """A left turn (60 degrees over 3 s) with 3 degrees of yaw noise: the raw yaw rate changes
    sign from box to box, so the turn segmentation misses it; after the yaw step it is found."""
    from scenmine.dsl.context import use_log
    from scenmine.dsl.unary import turn_mask

    t = np.arange(T) * 0.1
    yaw = np.clip((t - 1.0) / 3.0, 0, 1) * np.radians(60)
    pos = np.zeros((T, 3))
    pos[1:, 0] = np.cumsum(6.0 * np.cos(yaw[:-1]) * 0.1)
    pos[1:, 1] = np.cumsum(6.0 * np.sin(yaw[:-1]) * 0.1)
    turning = (t > 1.2) & (t < 3.8)

    def seen(lg):
        return turn_mask(use_log(lg), "left")[0][turning].mean()

    for seed in range(4):
        noisy_yaw = wrap(yaw + np.random.default_rng(seed).normal(0, np.radians(3), T))
        log = make_log(tmp_path / str(seed), [{"pos": pos + [10, 5, 0], "yaw": noisy_yaw}])
        refined = refine(log, only("yaw"))
        assert seen(log) == 0.0 and seen(refined) == 1.0
        assert np.abs(wrap(refined.yaw_city[0] - yaw)).max() < np.radians(5)


def test_two_overlapping_duplicate_boxes_become_one(tmp_path):
    pos = line()
    log = make_log(tmp_path, [{"pos": pos, "score": 0.9, "uuid": "real"},
                              {"pos": pos + [0.3, 0.1, 0], "score": 0.5, "uuid": "ghost"},
                              {"pos": pos + [0, 3.5, 0], "score": 0.5, "uuid": "neighbour"}])
    out = refine(log, only("dedup"))
    assert set(out.uuids) == {"real", "neighbour", EGO_UUID}


def test_annotations_with_equal_scores_are_not_deduplicated(tmp_path):
    pos = line()
    log = make_log(tmp_path, [{"pos": pos, "score": 1.0}, {"pos": pos + [0.3, 0, 0], "score": 1.0}])
    assert refine(log, only("dedup")).n_tracks == 3


def test_short_low_score_tracklets_are_pruned(tmp_path):
    short = np.arange(T) < 6
    log = make_log(tmp_path, [{"pos": line(), "valid": short, "score": 0.2, "uuid": "phantom"},
                              {"pos": line(start=(0, 9)), "valid": short, "score": 0.8, "uuid": "seen"},
                              {"pos": line(start=(0, 19)), "score": 0.2, "uuid": "long"}])
    out = refine(log, only("prune"))
    assert set(out.uuids) == {"seen", "long", EGO_UUID}


def test_smoothing_reduces_the_jitter_of_a_straight_line(tmp_path):
    truth = line(speed=5.0)
    noisy = truth + np.random.default_rng(1).normal(0, 0.2, truth.shape) * [1, 1, 0]
    log = make_log(tmp_path, [{"pos": noisy}])
    out = refine(log, only("smooth"))
    err_before = np.sqrt(np.mean((noisy - truth)[:, :2] ** 2))
    err_after = np.sqrt(np.mean((out.translation_city[0] - truth)[:, :2] ** 2))
    assert err_after < err_before / 2
    speed = np.linalg.norm(np.diff(out.translation_city[0, :, :2], axis=0), axis=1) / 0.1
    assert np.abs(speed - 5.0).max() < 1.0          # raw differences of the noise: +-4 m/s


def test_refinement_of_clean_annotations_changes_almost_nothing(real_log):
    log = load_log(real_log)
    out = refine(log, RefineOptions())
    assert set(out.uuids) == set(log.uuids)
    back = np.array([log.track_index[u] for u in out.uuids])
    assert (out.valid == log.valid[back]).mean() > 0.999
    both = out.valid & log.valid[back]
    moved = np.linalg.norm(out.translation_city[both] - log.translation_city[back][both], axis=-1)
    assert np.median(moved) < 0.02 and np.quantile(moved, 0.99) < 0.2
    turned = np.abs(wrap(out.yaw_city[both] - log.yaw_city[back][both]))
    assert (turned > 0.1).mean() < 0.01


def test_refinement_brings_noisy_tracks_closer_to_the_annotations(real_log):
    clean = load_log(real_log)
    noisy = make_noisy(clean, NoiseOptions(seed=3))
    refined = refine(noisy)

    def errors(log):
        """Median centre error and share of yaws off by over 90 degrees, boxes matched to the
        nearest annotation of the same timestamp."""
        dist, flips = [], []
        for j in range(0, len(clean.timestamps), 5):
            ours, ref = np.flatnonzero(log.valid[:-1, j]), np.flatnonzero(clean.valid[:-1, j])
            d = np.linalg.norm(log.translation_city[ours, j, None, :2]
                               - clean.translation_city[None, ref, j, :2], axis=-1)
            near = d.argmin(axis=1)
            ok = d[np.arange(len(ours)), near] < 1.0
            dist.append(d[np.arange(len(ours)), near][ok])
            flips.append(np.abs(wrap(log.yaw_city[ours, j] - clean.yaw_city[ref[near], j]))[ok] > np.pi / 2)
        return np.median(np.concatenate(dist)), np.concatenate(flips).mean()

    noisy_dist, noisy_flips = errors(noisy)
    refined_dist, refined_flips = errors(refined)
    assert refined_dist < 0.7 * noisy_dist
    assert refined_flips < 0.5 * noisy_flips
    assert refined.n_tracks < noisy.n_tracks


def test_noise_is_seeded(real_log):
    clean = load_log(real_log)
    a, b = make_noisy(clean, NoiseOptions(seed=5)), make_noisy(clean, NoiseOptions(seed=5))
    assert np.array_equal(a.valid, b.valid) and np.allclose(a.translation_city, b.translation_city,
                                                            equal_nan=True)
    assert not np.array_equal(make_noisy(clean, NoiseOptions(seed=6)).valid, a.valid)


@pytest.mark.parametrize("override, message", [
    ("tracks.yaw.min_speed=-1", "tracks.yaw.min_speed"),
    ("+tracks.smooth.window=3", "tracks.smooth.window is not a known key"),
    ("tracks.refine=sometimes", "tracks.refine"),
])
def test_bad_tracks_settings_are_one_line_config_errors(make_cfg, override, message):
    from scenmine.config import ConfigError, check_config
    with pytest.raises(ConfigError, match=message):
        check_config(make_cfg([override]))


def test_refinement_is_off_by_default_and_one_switch_turns_it_on(make_cfg):
    assert options_from_cfg(make_cfg([])) is None
    on = options_from_cfg(make_cfg(["tracks.refine=true", "tracks.yaw.enabled=false"]))
    assert on is not None and not on.yaw.enabled and on.smooth.enabled
    assert options_from_cfg(make_cfg(["tracks=default"])) == RefineOptions()


def test_the_schema_declares_every_refinement_option():
    from dataclasses import fields

    from scenmine.schema import tracks as module
    schema = {f.name for f in fields(module.Tracks)}
    options = {f.name: f.default_factory() for f in fields(RefineOptions)}
    assert schema - {"refine"} == set(options)
    for name, step in options.items():
        declared = {f.name for f in fields(getattr(module, name.capitalize()))}
        assert declared == {f.name for f in fields(step)}, name
