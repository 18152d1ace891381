"""Shared fixtures: the real logs in ../shared/av2_mini and the embedded dataset."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
AV2_MINI = SHARED / "av2_mini"
REFAV_PARITY = SHARED / "refav_parity"


def compose_cfg(overrides: list[str]):
    """The real config (conf/), composed with Hydra's compose API and ``overrides``."""
    from hydra import compose, initialize_config_dir
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


@pytest.fixture(scope="session")
def make_cfg():
    return compose_cfg


@pytest.fixture(scope="session")
def av2_mini() -> Path:
    """The four real Argoverse 2 logs; tests using it skip where ../shared is absent."""
    if not (AV2_MINI / "logs").is_dir():
        pytest.skip(f"real logs not found at {AV2_MINI} (CI and dev machines have ../shared)")
    return AV2_MINI


@pytest.fixture(scope="session")
def real_log(av2_mini) -> Path:
    return av2_mini / "logs" / "3bffdcff-c3a7-38b6-a0f2-64196d130958"


@pytest.fixture(scope="session")
def mini_root(tmp_path_factory) -> Path:
    """The embedded dataset, generated once per test session into a temp cache."""
    from scenmine.data.synthetic import ensure_mini_dataset
    return ensure_mini_dataset(tmp_path_factory.mktemp("cache"), seed=0)


@pytest.fixture(scope="session")
def refav_download(av2_mini, tmp_path_factory):
    """A miniature RefAV download (pairs files, annotations feather, sensor root, tracker
    pkls) built once per session from the real logs and ground truth (tests/refav_download.py)."""
    from refav_download import build
    return build(av2_mini, tmp_path_factory.mktemp("refav"))
