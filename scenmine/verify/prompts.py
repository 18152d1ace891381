"""VLM prompt templates (``conf/prompts/vlm/<name>.yaml``) and the request built from them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scenmine.resources import PROMPTS_DIR

from .render import Evidence
from .vlm.base import VLMRequest

TEMPLATE_DIR = PROMPTS_DIR / "vlm"
FIELDS = ("system", "legend_bev", "legend_camera", "frames_panel", "frames_single", "template")


def load_template(spec: Any) -> dict:
    """A template: a name in ``conf/prompts/vlm``, a path to a YAML file, or a mapping."""
    if isinstance(spec, str):
        path = Path(spec) if spec.endswith((".yaml", ".yml")) else TEMPLATE_DIR / f"{spec}.yaml"
        if not path.exists():
            known = sorted(p.stem for p in TEMPLATE_DIR.glob("*.yaml"))
            raise FileNotFoundError(f"no VLM prompt template {spec!r} (known: {known})")
        data = yaml.safe_load(path.read_text())
    else:
        data = dict(spec)
    missing = [f for f in ("template",) if f not in data]
    if missing:
        raise ValueError(f"VLM prompt template lacks {missing}")
    return {k: str(data.get(k) or "") for k in ("name", *FIELDS)}


def build_request(template: dict, description: str, evidence: Evidence, layout: str) -> VLMRequest:
    """The question for one pair: the template filled in, with the evidence images."""
    n = len(evidence.timestamps)
    legend = template["legend_camera"] if evidence.kind == "camera" else template["legend_bev"]
    frames = template["frames_panel" if layout == "panel" else "frames_single"].format(n_frames=n)
    text = template["template"].format(description=description, legend=legend.strip(),
                                       frames=frames.strip(), n_frames=n)
    return VLMRequest(text=text, images=list(evidence.images), system=template["system"].strip() or None)
