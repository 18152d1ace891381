"""Dataset configs: real logs with ground truth or prompts, and configuration errors."""
import pytest
from omegaconf import OmegaConf

from scenmine.data.dataset import DatasetError, load_dataset, read_prompts


def av2_cfg(**kw):
    return OmegaConf.create({"name": "av2", "split": "test", "logs": None, "ground_truth": None,
                             "prompts": None, "max_logs": None, **kw})


def test_ground_truth_gives_the_pairs(av2_mini):
    ds = load_dataset(av2_cfg(logs=str(av2_mini / "logs"),
                              ground_truth=str(av2_mini / "ground_truth" / "combined_gt_dev.pkl")))
    assert len(ds.logs) == 4 and len(ds.pairs) == 2
    assert set(ds.prompts) == {"stopped car", "vehicle with a bicycle to its right"}


def test_prompts_file_applies_to_every_log(av2_mini, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("stopped car\n\n# a comment\nstopped car\nparked vehicle\n\x07bad\n")
    ds = load_dataset(av2_cfg(logs=str(av2_mini / "logs"), prompts=str(prompts)))
    assert ds.prompts == ["stopped car", "parked vehicle"] and len(ds.pairs) == 8
    assert ds.ground_truth is None
    assert ds.skipped_prompts == {"stopped car": "duplicate prompt",
                                  "\x07bad": "prompt contains control characters"}


@pytest.mark.parametrize("kw,key", [
    ({"logs": "/no/such/folder", "prompts": None}, "dataset.logs"),
    ({"ground_truth": "/no/such.pkl"}, "dataset.ground_truth"),
    ({"prompts": "/no/such.txt"}, "dataset.prompts"),
    ({}, "dataset: give dataset.ground_truth"),
])
def test_configuration_errors_name_the_key(av2_mini, kw, key):
    cfg = av2_cfg(logs=str(av2_mini / "logs"))
    cfg.update(kw)
    with pytest.raises(DatasetError, match=key):
        load_dataset(cfg)


def test_logs_parent_folder_is_refused_with_a_hint(av2_mini, tmp_path):
    """dataset.logs=av2_mini (the folder above logs/) would fail every pair: refused up front."""
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("stopped car\n")
    with pytest.raises(DatasetError) as err:
        load_dataset(av2_cfg(logs=str(av2_mini), prompts=str(prompts)))
    assert str(err.value) == (f"dataset.logs: none of the folders in {av2_mini} is an Argoverse 2 "
                              f"log; did you mean dataset.logs={av2_mini / 'logs'}?")


def test_unknown_dataset_name():
    with pytest.raises(DatasetError, match="dataset.name"):
        load_dataset(OmegaConf.create({"name": "kitti"}))


def test_read_prompts_missing_file(tmp_path):
    with pytest.raises(DatasetError):
        read_prompts(tmp_path / "none.txt")
