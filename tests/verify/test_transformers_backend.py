"""The transformers Qwen3-VL path with a tiny random model.

About 20 s (transformers import, model build): runs with SCENMINE_TEST_TRANSFORMERS=1 and the
[vlm] extra (transformers, torch, torchvision); ``python -m scenmine.verify.vlm.selfcheck`` does
the same by hand, on CUDA with ``--device cuda``.
"""
from __future__ import annotations

import os

import pytest


@pytest.mark.skipif(os.environ.get("SCENMINE_TEST_TRANSFORMERS") != "1", reason="slow: set SCENMINE_TEST_TRANSFORMERS=1")
def test_tiny_random_qwen3vl_on_cpu():
    pytest.importorskip("transformers")
    pytest.importorskip("torchvision")  # transformers 5's Qwen3-VL processors need it
    from scenmine.verify.vlm.selfcheck import main

    out = main(["--device", "cpu"])
    assert out["device"] == "cpu" and len(out["answers"]) == 2
    assert all(0.0 <= p <= 1.0 for p, _ in out["answers"])
