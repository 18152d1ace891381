"""Unary and map DSL functions on a hand-built log whose answers can be checked by hand.

Map (city frame = ego frame: identity ego poses, ego parked at the origin):
  lane 1 VEHICLE  y in [-1.75, 1.75], x in [-100, 0]   left neighbour 2
  lane 2 VEHICLE  y in [ 1.75, 5.25], x in [-100, 0]   right neighbour 1
  lane 3 BUS      y in [ 5.25, 8.75], x in [-100, 0]
  lane 4 BIKE     y in [-3.25,-1.75], x in [-100, 0]
  lane 10 intersection (straight)  y in [-1.75, 1.75], x in [0, 20]
  crosswalk x in [-10, -6], y in [-3.5, 9];  drivable area x in [-100, 20], y in [-3.25, 8.75]
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.ndimage import median_filter
from synthetic_log import write_log  # tests/dsl/synthetic_log.py (on sys.path)

from scenmine.dsl import NAMESPACE as D
from scenmine.dsl import scenario as S
from scenmine.dsl.context import get_context
from scenmine.dsl.output import capture, post_process

T = 60
TS = 2_000_000_000 + np.arange(T, dtype=np.int64) * 100_000_000
ALL = range(T)
CAR, PED = (4.0, 2.0), (0.6, 0.6)


def _pts(*xy):
    return [{"x": float(x), "y": float(y), "z": 0.0} for x, y in xy]


def _lane(lid, x0, x1, y0, y1, kind="VEHICLE", left=None, right=None, inter=False):
    return {"id": lid, "is_intersection": inter, "lane_type": kind,
            "left_lane_boundary": _pts((x0, y1), ((x0 + x1) / 2, y1), (x1, y1)),
            "right_lane_boundary": _pts((x0, y0), ((x0 + x1) / 2, y0), (x1, y0)),
            "left_lane_mark_type": "DASHED_WHITE", "right_lane_mark_type": "DASHED_WHITE",
            "left_neighbor_id": left, "right_neighbor_id": right, "predecessors": [],
            "successors": []}


def write_map(folder):
    lanes = [_lane(1, -100, 0, -1.75, 1.75, left=2), _lane(2, -100, 0, 1.75, 5.25, right=1),
             _lane(3, -100, 0, 5.25, 8.75, "BUS"), _lane(4, -100, 0, -3.25, -1.75, "BIKE"),
             _lane(10, 0, 20, -1.75, 1.75, inter=True)]
    data = {"lane_segments": {str(ls["id"]): ls for ls in lanes},
            "pedestrian_crossings": {"7": {"id": 7, "edge1": _pts((-10, -3.5), (-10, 9)),
                                           "edge2": _pts((-6, -3.5), (-6, 9))}},
            "drivable_areas": {"1": {"id": 1, "area_boundary": _pts(
                (-100, -3.25), (20, -3.25), (20, 8.75), (-100, 8.75))}}}
    (folder / "map").mkdir()
    (folder / "map" / "log_map_archive_synthetic.json").write_text(json.dumps(data))


def make_log(tmp_path, tracks: dict):
    """tracks: uuid -> (category, f(t_s) -> (x, y, yaw), (length, width), frames)."""
    boxes = [(j, uuid, cat, *path(j * 0.1), size) for uuid, (cat, path, size, frames) in tracks.items()
             for j in frames]
    return write_log(tmp_path / "synthetic", TS, boxes, write_map)


def ts(frames):
    return {int(TS[j]) for j in frames}


def got(result, uuid):
    return set(S.timestamps_of(result.get(uuid, [])))


def left_turn(t):
    """East at 5.24 m/s for 1 s, a 90-degree left arc of radius 10 m over 3 s, then north."""
    v = np.pi / 2 * 10 / 3
    if t < 1:
        return 30 + v * t, 40.0, 0.0
    if t < 4:
        a = (t - 1) / 3 * np.pi / 2
        return 30 + v + 10 * np.sin(a), 50 - 10 * np.cos(a), a
    return 30 + v + 10, 50 + v * (t - 4), np.pi / 2


def right_turn(t):
    """The left turn mirrored in the x axis."""
    x, y, a = left_turn(t)
    return x, -y, -a


def lane_change(t):
    """East at 10 m/s in lane 1, drifting left into lane 2 between t = 1.05 s and 3.05 s."""
    return -90 + 10 * t, float(np.clip(1.75 * (t - 1.05), 0, 3.5)), 0.0


TRACKS = {
    "turner": ("REGULAR_VEHICLE", left_turn, CAR, ALL),
    "mirror": ("REGULAR_VEHICLE", right_turn, CAR, ALL),
    "changer": ("REGULAR_VEHICLE", lane_change, CAR, ALL),
    "parked": ("REGULAR_VEHICLE", lambda t: (-50 + 0.01 * np.sin(7 * t), 7.0, 0.0), CAR, ALL),
    "speeder": ("BUS", lambda t: (-95 + t * t, 7.0, 0.0), (12.0, 2.5), ALL),  # 2 m/s^2 in bus lane
    "cyclist": ("BICYCLIST", lambda t: (-80 + 5 * t, -2.5, 0.0), (1.8, 0.6), ALL),
    "on_xwalk": ("PEDESTRIAN", lambda t: (-8.0, 2.0 + 0.2 * t, np.pi / 2), PED, ALL),
    "walks_in": ("PEDESTRIAN", lambda t: (-20 + 2 * t, 2.0, 0.0), PED, ALL),
    "walks_out": ("PEDESTRIAN", lambda t: (-8.05 + 2 * t, 2.0, 0.0), PED, ALL),
    "in_junction": ("REGULAR_VEHICLE", lambda t: (10.0, 0.0, 0.0), CAR, range(30)),
    "seen_once": ("PEDESTRIAN", lambda t: (-30.0, 20.0, 0.0), PED, [5]),
}


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("core"), TRACKS)


def test_kinematics_match_scipy_median_of_central_differences(log):
    ctx = get_context(log)
    i = ctx.index["speeder"]
    raw = ctx.raw_pos[i]
    assert np.allclose(ctx.pos[i], median_filter(raw, size=7, mode="nearest", axes=0))
    vel = np.gradient(raw, 0.1, axis=0)  # central inside, one-sided at the ends
    assert np.allclose(ctx.vel[i], median_filter(vel, size=7, mode="nearest", axes=0))
    assert np.allclose(ctx.acc_self[i, 5:-5, 0], 2.0)
    assert np.isnan(ctx.pos[ctx.index["in_junction"], 40]).all()


def test_turning_left_90_degrees(log):
    cars = D["get_objects_of_category"](log, category="VEHICLE")
    left, right = D["turning"](cars, log, direction="left"), D["turning"](cars, log, "right")
    assert ts(range(12, 39)) <= got(left, "turner") <= ts(range(5, 46))
    assert got(right, "turner") == set() and got(left, "changer") == set()
    assert got(right, "mirror") == got(left, "turner") and got(left, "mirror") == set()
    assert got(D["turning"](cars, log), "mirror") == got(right, "mirror")


def test_lateral_acceleration_is_left_positive(log):
    cars = D["get_objects_of_category"](log, category="REGULAR_VEHICLE")
    centripetal = (np.pi / 2 * 10 / 3) ** 2 / 10  # v^2 / r = 2.74 m/s^2
    hla = D["has_lateral_acceleration"](cars, log, min_accel=centripetal - 0.3)
    assert ts(range(15, 36)) <= got(hla, "turner")
    assert got(hla, "mirror") == set()
    assert ts(range(15, 36)) <= got(D["has_lateral_acceleration"](cars, log, max_accel=-2.4), "mirror")


def test_velocity_acceleration_and_the_stationary_quirk(log):
    cars = D["get_objects_of_category"](log, category="VEHICLE")
    assert set(D["stationary"](cars, log)) == set(cars)  # every candidate key is kept
    assert got(D["stationary"](cars, log), "parked") == ts(ALL)
    assert got(D["stationary"](cars, log), "changer") == set()
    slow = D["has_velocity"](cars, log, min_velocity=0, max_velocity=0.5)
    assert got(slow, "parked") == set()  # stationary tracks never have a velocity
    not_fast = D["scenario_not"](D["has_velocity"])(cars, log, min_velocity=0.5)
    assert got(not_fast, "parked") == ts(ALL)
    assert got(D["has_velocity"](cars, log, min_velocity=9.5, max_velocity=10.5), "changer") == ts(ALL)
    acc = D["accelerating"](cars, log, min_accel=1.0)
    assert ts(range(3, T - 3)) <= got(acc, "speeder") and got(acc, "changer") == set()
    assert got(D["accelerating"](cars, log, max_accel=-1), "speeder") == set()


def test_changing_lanes_left(log):
    cars = D["get_objects_of_category"](log, category="VEHICLE")
    left = got(D["changing_lanes"](cars, log, direction="left"), "changer")
    assert ts(range(16, 25)) <= left <= ts(range(8, 33))
    assert got(D["changing_lanes"](cars, log, direction="right"), "changer") == set()
    assert got(D["changing_lanes"](cars, log), "changer") == left
    assert got(D["changing_lanes"](cars, log), "turner") == set()


def test_lane_functions(log):
    every = D["get_objects_of_category"](log, category="ANY")
    assert got(D["on_lane_type"](every, log, lane_type="BUS"), "speeder") == ts(ALL)
    assert got(D["on_lane_type"](every, log, lane_type="BIKE"), "cyclist") == ts(ALL)
    assert got(D["on_lane_type"](every, log, lane_type="VEHICLE"), "changer") == ts(ALL)
    assert got(D["on_intersection"](every, log), "in_junction") == ts(range(30))
    assert got(D["on_intersection"](every, log), "changer") == set()
    assert got(D["on_road"](every, log), "turner") == set()  # far from every lane
    assert got(D["on_road"](every, log), "parked") == ts(ALL)


def test_area_functions(log):
    every = D["get_objects_of_category"](log, category="ANY")
    assert got(D["in_drivable_area"](every, log), "parked") == ts(ALL)
    assert got(D["in_drivable_area"](every, log), "turner") == set()
    near = D["near_intersection"](every, log)  # lane 10 dilated by 5 m: x >= -5
    assert got(near, "walks_out") == ts(range(16, T))  # x = -8.05 + 0.2 j > -5
    assert got(D["near_intersection"](every, log, threshold=60.5), "changer") == ts(range(30, T))


def test_pedestrian_crossing_and_its_chaining_quirk(log):
    peds = D["get_objects_of_category"](log, category="PEDESTRIAN")
    result = D["at_pedestrian_crossing"](peds, log)
    assert got(result, "on_xwalk") == ts(ALL)
    assert got(result, "walks_in") == set()  # not on a crossing at its first timestamp
    # the box (x = -8.05 + 0.2 j, half length 0.3) leaves the crosswalk after j = 11; with the
    # 1 m margin it is reported once more, then the chain is broken
    assert got(result, "walks_out") == ts(range(13))
    zero = D["at_pedestrian_crossing"](peds, log, within_distance=0)
    assert got(zero, "walks_out") == ts(range(12)) and got(zero, "on_xwalk") == ts(ALL)
    fixed = D["at_pedestrian_crossing"](peds, log, fix_reference_bugs=True)
    assert got(fixed, "on_xwalk") == ts(ALL)
    assert got(fixed, "walks_out") > ts(range(13))  # the whole 1 m margin, not just one step
    assert got(fixed, "walks_in")  # reported once it reaches the crossing


def test_categories_and_edge_cases(log):
    assert set(D["get_objects_of_category"](log, category="VEHICLE")) == {
        "turner", "mirror", "changer", "parked", "speeder", "in_junction", "ego"}
    assert D["get_objects_of_category"](log, category="STOP_SIGN") == {}
    cars = D["get_objects_of_category"](log, category="VEHICLE")
    assert set(D["is_category"](cars, log, category="BUS")["speeder"]) == ts(ALL)
    assert D["is_category"](cars, log, category="BUS")["turner"] == []
    assert D["turning"]({}, log) == {}
    assert D["at_stop_sign"](cars, log) == {}
    once = D["get_objects_of_category"](log, category="PEDESTRIAN")
    for name in ("turning", "changing_lanes", "has_velocity", "accelerating", "stationary",
                 "on_road", "at_pedestrian_crossing", "near_intersection", "in_drivable_area"):
        assert isinstance(D[name](once, log)["seen_once"], list), name
    unknown = D["has_velocity"]({"nope": [int(TS[0])]}, log)
    assert unknown == {"nope": []}
    rel = {"turner": {"parked": ts(range(10)), "mirror": {"changer": ts(range(20, 30))}}}
    nested = D["turning"](rel, log, direction="left")
    assert S.timestamps_of(nested) == sorted(ts(range(20, 30)) & got(D["turning"](cars, log), "turner"))


def test_camera_functions_pass_through_with_one_warning(log):
    from scenmine.dsl import camera

    camera.reset_warnings()
    cars = D["get_objects_of_category"](log, category="VEHICLE")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert D["is_color"](cars, log, color="red") == cars
        assert D["is_color"](cars, log, color="blue") == cars
        assert D["within_camera_view"](cars, log) == cars
    assert len([w for w in caught if "is_color" in str(w.message)]) == 1
    assert len([w for w in caught if "within_camera_view" in str(w.message)]) == 1


def test_output_scenario_capture_and_validation(log):
    scenario = {"turner": [int(TS[0])]}
    D["output_scenario"](scenario, "outside", log, "/tmp")  # no capture: validation only
    with capture() as records:
        D["output_scenario"](scenario, "a car", log, "/tmp")
        scenario["turner"].append(int(TS[1]))
    assert records == [("a car", {"turner": [int(TS[0])]})]
    with pytest.raises(TypeError):
        D["output_scenario"]({"turner": ["x"]}, "bad", log, "/tmp")
    with pytest.raises(TypeError):
        D["output_scenario"]([1, 2], "bad", log, "/tmp")


def test_post_process_default_and_legacy(log):
    far, near = ts(range(10)), ts(range(40, 45))
    scenario = {"turner": {"changer": far}, "parked": {"speeder": near, "mirror": far},
                "walks_out": [int(TS[3])], "cyclist": []}
    referred, related = post_process(scenario, log, eval_only=False)
    # changer is > 100 m from the turner: the relation and so the referral vanish
    assert set(referred) == {"parked", "walks_out"}
    assert set(referred["parked"].tolist()) == near and set(related) == {"speeder"}
    assert referred["parked"].dtype == np.int64
    ev, _ = post_process(scenario, log)
    assert set(ev["parked"].tolist()) == {int(TS[40])} and "walks_out" not in ev
    old, _ = post_process(scenario, log, legacy=True, eval_only=False)
    assert "walks_out" not in old  # single-timestamp referral removed
    assert set(old["parked"].tolist()) == ts(range(35, 50))  # 5 samples dilated to 15
    assert post_process({}, log) == ({}, {})


def test_tracker_predictions_as_tracks(log):
    """Tracking-submission frames (city-frame boxes with scores) load like annotations."""
    from scenmine.data.logs import load_tracker_log
    from scenmine.dsl.context import _registered, use_log

    frames = []
    for j, t in enumerate(log.timestamps):
        m = log.valid[:, j] & (log.categories != "EGO_VEHICLE")
        frames.append({"timestamp_ns": int(t), "translation_m": log.translation_city[m, j],
                       "size": log.size[m, j], "yaw": log.yaw_city[m, j],
                       "name": log.categories[m], "label": log.categories[m],
                       "track_id": np.flatnonzero(m), "score": np.full(m.sum(), 0.5)})
    tracked = load_tracker_log(log.log_dir, {log.log_id: frames})
    assert list(tracked.uuids[:-1]) == [str(i) for i in range(len(log.uuids) - 1)]
    assert np.allclose(tracked.translation_city, log.translation_city, equal_nan=True)
    assert np.nanmax(tracked.score[:-1]) == 0.5 and tracked.score[-1, 0] == 1.0
    try:
        use_log(tracked)
        turned = D["turning"](D["get_objects_of_category"](log.log_dir, "VEHICLE"), log.log_dir)
        assert got(turned, str(log.track_index["turner"])) == \
            got(D["turning"](D["get_objects_of_category"](log, "VEHICLE"), log), "turner")
    finally:
        _registered.clear()


def camera_log(tmp_path):
    """One forward camera at the ego origin; a car 10 m ahead, one behind (no images yet)."""
    from scipy.spatial.transform import Rotation

    log = make_log(tmp_path, {
        "ahead": ("REGULAR_VEHICLE", lambda t: (10.0, 0.0, 0.0), CAR, ALL),
        "behind": ("REGULAR_VEHICLE", lambda t: (-10.0, 0.0, 0.0), CAR, ALL)})
    cam = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], float)  # ego <- camera (z forward)
    x, y, z, w = Rotation.from_matrix(cam).as_quat()
    calib = log.log_dir / "calibration"
    calib.mkdir()
    pd.DataFrame({"sensor_name": ["ring_front_center"], "qw": [w], "qx": [x], "qy": [y], "qz": [z],
                  "tx_m": [0.0], "ty_m": [0.0], "tz_m": [0.0]}).to_feather(
        calib / "egovehicle_SE3_sensor.feather")
    pd.DataFrame({"sensor_name": ["ring_front_center"], "fx_px": [100.0], "fy_px": [100.0],
                  "cx_px": [100.0], "cy_px": [50.0], "k1": [0.0], "k2": [0.0], "k3": [0.0],
                  "height_px": [100], "width_px": [200]}).to_feather(calib / "intrinsics.feather")
    return log


def test_camera_view_and_color_from_calibration_and_images(tmp_path):
    """One forward camera at the ego origin; a red car 10 m ahead, a grey one behind."""
    from PIL import Image

    from scenmine.dsl import camera

    log = camera_log(tmp_path)
    cars = D["get_objects_of_category"](log, category="REGULAR_VEHICLE")
    assert D["within_camera_view"](cars, log, camera="ring_front_center") == \
        {"ahead": sorted(ts(ALL)), "behind": []}
    with pytest.raises(ValueError):
        D["within_camera_view"](cars, log, camera="ring_rear_left")
    camera.reset_warnings()
    with pytest.warns(RuntimeWarning, match="no camera images"):
        assert D["is_color"](cars, log, color="red") == cars
    img = np.full((100, 200, 3), 128, np.uint8)
    img[35:65, 80:120] = (200, 20, 20)  # the projected box is about u 87-113, v 41-59
    folder = log.log_dir / "sensors" / "cameras" / "ring_front_center"
    folder.mkdir(parents=True)
    Image.fromarray(img).save(folder / f"{TS[10]}.jpg")
    log._cache.pop("dsl_context", None)
    assert D["is_color"](cars, log, color="red") == {"ahead": sorted(ts(ALL)), "behind": []}
    assert D["is_color"](cars, log, color="blue") == {"ahead": [], "behind": []}
    assert camera.classify_color((250, 250, 250)) == "white"
    assert camera.classify_color((20, 20, 20)) == "black"
    assert camera.classify_color((40, 60, 200)) == "blue"


def tiny_clip(folder: Path) -> Path:
    """A randomly initialised CLIP model + processor saved locally (character tokenizer)."""
    import string

    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizerFast,
    )

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "[UNK]": 2}
    for ch in string.ascii_lowercase:
        vocab[ch], vocab[ch + "</w>"] = len(vocab), len(vocab) + 1
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], end_of_word_suffix="</w>", unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    small = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2)
    CLIPModel(CLIPConfig(text_config=dict(vocab_size=64, max_position_embeddings=64, **small),
                         vision_config=dict(image_size=32, patch_size=8, **small),
                         projection_dim=8)).save_pretrained(folder)
    CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                                     crop_size={"height": 32, "width": 32}),
                  tokenizer=CLIPTokenizerFast(tokenizer_object=tok, bos_token="<|startoftext|>",
                                              eos_token="<|endoftext|>", unk_token="[UNK]",
                                              pad_token="<|endoftext|>")).save_pretrained(folder)
    return folder


def test_color_model_option_classifies_crops(tmp_path, monkeypatch):
    """SCENMINE_COLOR_MODEL switches is_color's crops to a (here random) local CLIP model."""
    pytest.importorskip("transformers")
    pytest.importorskip("torch")
    from scenmine.dsl import color_model
    from scenmine.dsl.camera import COLORS

    assert color_model.model_classifier(COLORS) is None  # default: the pixel rule
    monkeypatch.setenv(color_model.ENV, str(tiny_clip(tmp_path / "clip")))
    classify = color_model.model_classifier(COLORS)
    crop = np.zeros((40, 30, 3), np.uint8)
    assert classify(crop) in COLORS and classify(crop) == classify(crop)
    # is_color asks the model about each track's crop
    from PIL import Image
    (tmp_path / "log").mkdir()
    log = camera_log(tmp_path / "log")
    folder = log.log_dir / "sensors" / "cameras" / "ring_front_center"
    folder.mkdir(parents=True)
    Image.fromarray(np.full((100, 200, 3), 128, np.uint8)).save(folder / f"{TS[10]}.jpg")
    cars = D["get_objects_of_category"](log, category="REGULAR_VEHICLE")
    answer = classify(np.full((9, 13, 3), 128, np.uint8))
    assert D["is_color"](cars, log, color=answer)["ahead"] == sorted(ts(ALL))
