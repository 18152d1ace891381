"""Hugging Face transformers backend: Qwen3-VL from local weights; P(yes) from next-token logits.

torch / transformers are imported only when this backend is built (extra ``[vlm]``).
"""
from __future__ import annotations

import inspect
import math

from .base import VLMAnswer, VLMRequest, parse_answer, semantic_config

YES_SPELLINGS = ("yes", "Yes", " yes", " Yes", "YES")
NO_SPELLINGS = ("no", "No", " no", " No", "NO")


class TransformersVLM:
    """``Qwen3VLForConditionalGeneration`` + ``AutoProcessor``; ``model``/``processor`` may be given."""

    name = "transformers"

    def __init__(self, model_path: str | None = None, dtype: str = "auto", device: str = "auto",
                 max_new_tokens: int = 0, attn_implementation: str | None = None,
                 min_pixels: int | None = None, max_pixels: int | None = None,
                 model_class: str = "Qwen3VLForConditionalGeneration", model=None, processor=None, **_: object):
        self.model_path, self.dtype, self.device = model_path, dtype, device
        self.max_new_tokens, self.attn_implementation = int(max_new_tokens), attn_implementation
        self.min_pixels, self.max_pixels, self.model_class = min_pixels, max_pixels, model_class
        self._model, self._processor, self._ids = model, processor, None
        self.calls = 0

    def cache_key(self) -> dict:
        return semantic_config({"name": self.name, "model_path": self.model_path, "dtype": self.dtype,
                                "max_new_tokens": self.max_new_tokens, "min_pixels": self.min_pixels,
                                "max_pixels": self.max_pixels, "model_class": self.model_class})

    def _load(self):
        import torch
        import transformers

        if self._model is None:
            cls = getattr(transformers, self.model_class)
            device = ("cuda" if torch.cuda.is_available() else "cpu") if self.device == "auto" else self.device
            kw = {}
            if self.attn_implementation:
                kw["attn_implementation"] = self.attn_implementation
            try:
                self._model = cls.from_pretrained(self.model_path, dtype=self.dtype, **kw)
            except TypeError:  # transformers < 4.56 spells it torch_dtype
                self._model = cls.from_pretrained(self.model_path, torch_dtype=self.dtype, **kw)
            self._model.to(device).eval()  # no device_map: works without accelerate
        if self._processor is None:
            pkw = {k: v for k, v in (("min_pixels", self.min_pixels), ("max_pixels", self.max_pixels)) if v}
            self._processor = transformers.AutoProcessor.from_pretrained(self.model_path, **pkw)
        return self._model, self._processor

    def _token_ids(self, tokenizer) -> tuple[list[int], list[int]]:
        if self._ids is None:
            def ids(words):
                out = set()
                for w in words:
                    enc = tokenizer.encode(w, add_special_tokens=False)
                    if len(enc) == 1:
                        out.add(int(enc[0]))
                return sorted(out)
            self._ids = (ids(YES_SPELLINGS), ids(NO_SPELLINGS))
            if not self._ids[0] or not self._ids[1]:
                raise RuntimeError("tokenizer has no single-token spelling of yes / no")
        return self._ids

    def _inputs(self, req: VLMRequest, model, processor):
        content = [{"type": "image", "image": im} for im in req.images] + [{"type": "text", "text": req.text}]
        messages = ([{"role": "system", "content": [{"type": "text", "text": req.system}]}] if req.system else [])
        messages.append({"role": "user", "content": content})
        inputs = processor.apply_chat_template(messages, tokenize=True, add_generation_prompt=True,
                                               return_dict=True, return_tensors="pt")
        return self.add_mm_token_type_ids(dict(inputs), model)

    @staticmethod
    def add_mm_token_type_ids(inputs: dict, model) -> dict:
        """Qwen3-VL's forward (transformers 5.x) needs ``mm_token_type_ids`` (1 at image tokens)."""
        params = inspect.signature(model.forward).parameters
        if "mm_token_type_ids" in params and "mm_token_type_ids" not in inputs:
            image_token = getattr(model.config, "image_token_id", None)
            ids = inputs["input_ids"]
            inputs["mm_token_type_ids"] = (ids == image_token).long() if image_token is not None else ids * 0
        return inputs

    def p_yes_from_inputs(self, inputs: dict, model, tokenizer) -> tuple[float, str]:
        """Forward once; P(yes) from the last position's yes / no logits, and the likelier word."""
        import torch

        yes_ids, no_ids = self._token_ids(tokenizer)
        device = next(model.parameters()).device
        batch = {k: (v.to(device) if hasattr(v, "to") else v) for k, v in inputs.items()}
        with torch.inference_mode():
            logits = model(**batch).logits[0, -1].float()
        logp = torch.log_softmax(logits, dim=-1)
        ly, ln = torch.logsumexp(logp[yes_ids], 0).item(), torch.logsumexp(logp[no_ids], 0).item()
        p = 1.0 / (1.0 + math.exp(ln - ly))
        if self.max_new_tokens > 0:
            with torch.inference_mode():
                out = model.generate(**batch, max_new_tokens=self.max_new_tokens, do_sample=False)
            raw = tokenizer.decode(out[0, batch["input_ids"].shape[1]:], skip_special_tokens=True)
        else:
            raw = "yes" if p >= 0.5 else "no"
        return p, raw

    def answer(self, requests: list[VLMRequest]) -> list[VLMAnswer]:
        model, processor = self._load()
        tokenizer = getattr(processor, "tokenizer", processor)
        out = []
        for req in requests:
            self.calls += 1
            try:
                p, raw = self.p_yes_from_inputs(self._inputs(req, model, processor), model, tokenizer)
                out.append(VLMAnswer(p if math.isfinite(p) else parse_answer(raw), raw))
            except Exception as exc:  # noqa: BLE001 - one failed pair is recorded, the run goes on
                out.append(VLMAnswer(float("nan"), f"ERROR: {exc}"))
        return out
