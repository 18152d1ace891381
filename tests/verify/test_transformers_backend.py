"""The transformers Qwen3-VL path with a tiny random model (skips without the [vlm] extra)."""
from __future__ import annotations

import pytest


def test_tiny_random_qwen3vl_on_cpu():
    pytest.importorskip("transformers")
    pytest.importorskip("torchvision")  # transformers 5's Qwen3-VL processors need it
    from scenmine.verify.vlm.selfcheck import main

    out = main(["--device", "cpu"])
    assert out["device"] == "cpu" and len(out["answers"]) == 2
    assert all(0.0 <= p <= 1.0 for p, _ in out["answers"])
