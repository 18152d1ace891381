"""Settings that change a pair's outcome are in its key; isolation settings are checked;
untrusted pkls are read through the restricted unpickler."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from scenmine.data import safe_pickle
from scenmine.data.submission import load_pkl
from scenmine.execute import confine
from scenmine.execute.stage import _execution_key, outcome_settings


@pytest.mark.parametrize("override", ["execute.timeout_s=120", "execute.memory_mb=8192",
                                      "execute.isolation=required", "execute.max_result_mb=64"])
def test_every_outcome_setting_changes_the_execution_key(make_cfg, mini_root, override):
    log_dir = sorted((mini_root / "logs").iterdir())[0]
    base = outcome_settings(make_cfg([]))
    changed = outcome_settings(make_cfg([override]))
    assert base != changed
    assert _execution_key("p", log_dir, {}, base) != _execution_key("p", log_dir, {}, changed)


def test_isolation_setting_is_parsed_and_checked():
    assert confine.required_layers("best_effort") == frozenset()
    assert confine.required_layers("required") == frozenset(confine.LAYERS)
    assert confine.required_layers(["landlock", "seccomp"]) == {"landlock", "seccomp"}
    with pytest.raises(ValueError, match="execute.isolation"):
        confine.required_layers(["landlok"])
    report = {layer: confine.ON for layer in confine.LAYERS} | {"landlock": "missing: old kernel"}
    assert confine.missing_required(report, "best_effort") == []
    assert confine.missing_required(report, ["landlock"]) == ["landlock: missing: old kernel"]


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pkl_asking_for_more_than_containers_and_numpy_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "submission.pkl"
    path.write_bytes(pickle.dumps({("log", "prompt"): [Evil(marker)]}))
    with pytest.raises(ValueError) as info:
        load_pkl(path)
    message = str(info.value)
    assert str(path) in message and "posix.system" in message and "\n" not in message
    assert not marker.exists()
    (tmp_path / "bad.pkl").write_bytes(b"\x80\x05garbage")
    with pytest.raises(safe_pickle.UnsafePickle, match="bad.pkl"):
        safe_pickle.load(tmp_path / "bad.pkl")


def test_official_shaped_pkls_load(tmp_path):
    frames = [{"seq_id": ("log", "p"), "timestamp_ns": np.int64(5), "label": np.zeros(3, np.int32),
               "name": np.array(["OTHER_OBJECT"] * 3, "<U31"), "ego_translation_m": [0.0, 1.0, 2.0]}]
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps({("log", "p"): frames}, protocol=protocol))
        loaded = load_pkl(path)[("log", "p")][0]
        assert loaded["timestamp_ns"] == 5 and loaded["name"][0] == "OTHER_OBJECT"
