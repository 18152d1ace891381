"""Smoke test of the transformers Qwen3-VL path with a tiny random model (no weights needed).

``python -m scenmine.verify.vlm.selfcheck [--device cuda]`` builds a random ``Qwen3VLConfig``
model, a word-level tokenizer and the Qwen3-VL processor, saves them, loads them back through
``TransformersVLM`` (as real weights would be) and answers one multi-image question.
It checks the code path (inputs, ``mm_token_type_ids``, yes/no logits), not the answers.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
            "<|image_pad|>", "<|video_pad|>"]
WORDS = ["yes", "no", "Yes", "No", "user", "assistant", "system", "does", "the", "green", "object", "?", "\n"]
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny(path: Path) -> None:
    """Save a random tiny Qwen3-VL model + processor under ``path``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen3VLConfig, Qwen3VLForConditionalGeneration
    try:  # transformers 5: PIL-backed processor (no torchvision needed)
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
            Qwen2VLImageProcessorPil as Qwen2VLImageProcessor,
        )
    except ImportError:
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor
    from transformers.models.qwen3_vl.processing_qwen3_vl import Qwen3VLProcessor

    vocab = {t: i for i, t in enumerate(SPECIALS + WORDS + ["[UNK]"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", additional_special_tokens=SPECIALS[1:])
    image_processor = Qwen2VLImageProcessor(patch_size=16, merge_size=2, temporal_patch_size=2,
                                            image_mean=[0.5] * 3, image_std=[0.5] * 3,
                                            min_pixels=64 * 64, max_pixels=256 * 256)
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    processor = Qwen3VLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=TEMPLATE,
                                 video_processor=Qwen3VLVideoProcessor(patch_size=16, merge_size=2,
                                                                       temporal_patch_size=2))
    cfg = Qwen3VLConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "max_position_embeddings": 4096,
                         "rope_scaling": {"rope_type": "default", "mrope_section": [2, 3, 3], "mrope_interleaved": True}},
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                           "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2, "num_position_embeddings": 256,
                           "deepstack_visual_indexes": [0]},
        image_token_id=vocab["<|image_pad|>"], video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"], vision_end_token_id=vocab["<|vision_end|>"])
    Qwen3VLForConditionalGeneration(cfg).save_pretrained(path)
    processor.save_pretrained(path)


def main(argv: list[str] | None = None) -> dict:
    from PIL import Image

    from .base import VLMRequest
    from .transformers_backend import TransformersVLM

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args(argv)
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        build_tiny(Path(tmp))
        vlm = TransformersVLM(model_path=tmp, dtype=args.dtype, device=args.device, max_new_tokens=2)
        imgs = [Image.new("RGB", (192, 128), (30 * k, 200, 60)) for k in range(2)]
        req = VLMRequest(text="does the green object ?", images=imgs, system="yes no")
        t1 = time.perf_counter()
        answers = vlm.answer([req, req])
        model = vlm._model
        out = {"transformers": __import__("transformers").__version__, "torch": torch.__version__,
               "device": str(next(model.parameters()).device), "cuda": torch.cuda.is_available(),
               "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
               "answers": [(round(a.p_yes, 4), a.raw) for a in answers],
               "build_s": round(t1 - t0, 2), "answer_s": round(time.perf_counter() - t1, 2)}
    print(json.dumps(out))
    ok = all(0.0 <= a.p_yes <= 1.0 and not a.raw.startswith("ERROR") for a in answers)
    if not ok:
        raise SystemExit(f"self-check failed: {answers}")
    return out


if __name__ == "__main__":
    main()
