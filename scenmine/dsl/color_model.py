"""The optional model-based colour classifier of ``is_color``: zero-shot CLIP, local weights.

Set ``SCENMINE_COLOR_MODEL`` to a folder holding a CLIP model and processor (as written by
``save_pretrained``; nothing is downloaded) and ``is_color`` names each track's colour by
comparing its camera crop with "a photo of a <colour> vehicle" for the six DSL colours,
instead of the default rule on the crop's median pixel. Needs ``pip install 'scenmine[vlm]'``.
The variable reaches the sandbox processes, so it works for whole runs too.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable

import numpy as np

ENV = "SCENMINE_COLOR_MODEL"
PROMPT = "a photo of a {} vehicle"


@functools.lru_cache(maxsize=2)
def clip_classifier(path: str, colors: tuple[str, ...]) -> Callable[[np.ndarray], str]:
    """A function crop (H, W, 3 uint8) -> the colour whose text best matches the crop."""
    try:
        import torch
        from PIL import Image
        from transformers import CLIPModel, CLIPProcessor
    except ImportError as exc:
        raise RuntimeError(f"{ENV}={path}: the colour model needs transformers and torch "
                           "(pip install 'scenmine[vlm]')") from exc
    model = CLIPModel.from_pretrained(path, local_files_only=True).eval()
    processor = CLIPProcessor.from_pretrained(path, local_files_only=True)
    texts = [PROMPT.format(color) for color in colors]

    def classify(crop: np.ndarray) -> str:
        inputs = processor(text=texts, images=Image.fromarray(crop), return_tensors="pt",
                           padding=True)
        with torch.no_grad():
            logits = model(**inputs).logits_per_image[0]
        return colors[int(logits.argmax())]

    return classify


def model_classifier(colors: tuple[str, ...]) -> Callable[[np.ndarray], str] | None:
    """The configured model classifier, or None for the default pixel rule."""
    path = os.environ.get(ENV)
    return clip_classifier(path, tuple(colors)) if path else None
