"""The official evaluator wrapper reproduces the documented scores on the bundled predictions."""
import pytest

from scenmine.data.submission import load_pkl
from scenmine.evaluate import evaluate, hota_temporal_by_prompt


def test_bundled_predictions_score_as_documented(av2_mini, tmp_path):
    preds = load_pkl(av2_mini / "ground_truth" / "combined_predictions_dev.pkl")
    gt = load_pkl(av2_mini / "ground_truth" / "combined_gt_dev.pkl")
    result = evaluate(preds, gt, av2_mini / "logs", tmp_path)
    assert result.metrics["hota_temporal"] == pytest.approx(0.383, abs=1e-3)
    assert result.metrics["hota_track"] == pytest.approx(0.402, abs=1e-3)
    assert result.metrics["ts_ba"] == pytest.approx(0.85)
    assert result.metrics["log_ba"] == pytest.approx(1.0)
    assert set(result.per_prompt) == {"stopped car", "vehicle with a bicycle to its right"}
    assert (tmp_path / "timestamp_level_confusion_matrix.png").exists()


def test_missing_pair_is_an_error(av2_mini):
    gt = load_pkl(av2_mini / "ground_truth" / "combined_gt_dev.pkl")
    with pytest.raises(ValueError, match="lack 2 ground-truth pairs"):
        evaluate({}, gt, av2_mini / "logs")


def test_hota_temporal_alone_gives_the_full_evaluations_figures(av2_mini, tmp_path):
    """The benchmarks' HOTA-Temporal-only path runs the official steps: same per-prompt values,
    one prompt at a time or all together."""
    preds = load_pkl(av2_mini / "ground_truth" / "combined_predictions_dev.pkl")
    gt = load_pkl(av2_mini / "ground_truth" / "combined_gt_dev.pkl")
    full = evaluate(preds, gt, av2_mini / "logs", tmp_path).per_prompt
    for chunk in (1, 16):
        alone = hota_temporal_by_prompt(preds, gt, av2_mini / "logs", chunk=chunk)
        assert alone == pytest.approx({p: m["hota_temporal"] for p, m in full.items()}, abs=1e-12)
    with pytest.raises(ValueError, match="lack 2 ground-truth pairs"):
        hota_temporal_by_prompt({}, gt, av2_mini / "logs")
