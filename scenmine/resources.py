"""Where the package's own files are: the Hydra config tree (conf/) and its prompt templates.

In a source checkout conf/ sits next to the package; in an installed wheel it ships inside the
package (scenmine/conf, see pyproject.toml). Nothing here depends on the folder you run from.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def conf_dir() -> Path:
    """The config tree: scenmine/conf when installed, else the checkout's conf/."""
    bundled = PACKAGE_DIR / "conf"
    return bundled if (bundled / "config.yaml").is_file() else PACKAGE_DIR.parent / "conf"


CONF_DIR = conf_dir()
PROMPTS_DIR = CONF_DIR / "prompts"
