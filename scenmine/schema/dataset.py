"""Schema of the ``dataset`` group (conf/dataset/*.yaml), one dataclass per option (by ``name``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .core import Group, key

Split = Literal["train", "val", "test"]


@dataclass
class MiniDataset:
    """dataset=mini: the embedded synthetic dataset, generated on first use."""

    name: Literal["mini"] = key()
    _target_: str = key("the class or function this option runs")
    split: Split = key("which split's logs and prompts")
    seed: int = key("generator seed (the dataset is deterministic from it)", ge=0)
    n_logs: int = key("logs generated", ge=3)
    root: str | None = key("cache folder the dataset is generated into (null: paths.cache)")
    max_logs: int | None = key("use only the first N logs of the split", ge=1)
    prompts: str | None = key("a prompts file (one per line); null: the ground truth's prompts")


@dataclass
class Av2Dataset:
    """dataset=av2: Argoverse 2 sensor-format logs, ground truth and/or a prompts file."""

    name: Literal["av2"] = key()
    _target_: str = key("the class or function this option runs")
    split: Split = key("the split these logs belong to (a tag)")
    logs: str = key("folder holding one folder per log")
    ground_truth: str | None = key("official-format pkl whose (log, prompt) keys give the pairs")
    prompts: str | None = key("text file, one prompt per line, applied to every log")
    tracks: str | None = key("tracker-predictions pkl used instead of the annotations")
    max_logs: int | None = key("use only the first N logs", ge=1)


@dataclass
class RefAVDataset:
    """dataset=refav: the RefAV benchmark's downloads as they are (scenmine/data/refav.py)."""

    _target_: str = key()
    name: Literal["refav"] = key()
    split: Split = key("which split's pairs file, annotations feather and sensor folder")
    sm_root: str = key("scenario-mining download: log_prompt_pairs_<split>.json, "
                       "scenario_mining_<split>_annotations.feather")
    av2_root: str = key("Argoverse 2 sensor root holding train/ val/ test/")
    tracker: str | None = key("tracker-predictions pkl (AV2 tracking submission); null: the "
                              "logs' annotations (required on test)")
    max_logs: int | None = key("use only the first N logs of the pairs file", ge=1)
    cache: str | None = key("folder of the converted ground truth (null: $SCENMINE_CACHE/refav)")
    progress: bool = key("progress bar while converting the annotations feather")


SCHEMA = Group("name", {"mini": MiniDataset, "av2": Av2Dataset, "refav": RefAVDataset})
