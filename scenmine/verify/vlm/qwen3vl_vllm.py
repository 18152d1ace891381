"""vLLM offline engine backend (Qwen3-VL): multi-image chat, batched, P(yes) from logprobs.

vllm is imported only when this backend is built (extra ``[vllm]``); ``llm`` may be given.
"""
from __future__ import annotations

from .base import (
    VLMAnswer,
    VLMRequest,
    image_to_data_url,
    p_yes_from_positions,
    parse_answer,
    semantic_config,
)


class VLLMQwen3VL:
    """One ``vllm.LLM`` per process; ``answer`` sends the requests in batches of ``batch_size``."""

    name = "qwen3vl_vllm"

    def __init__(self, model: str = "Qwen/Qwen3-VL-8B-Instruct", max_model_len: int = 16384,
                 gpu_memory_utilization: float = 0.85, tensor_parallel_size: int = 1, max_images: int = 8,
                 max_tokens: int = 4, temperature: float = 0.0, top_logprobs: int = 20, batch_size: int = 32,
                 dtype: str = "auto", seed: int = 0, enforce_eager: bool = False,
                 mm_processor_kwargs: dict | None = None, llm=None, **_: object):
        self.model, self.max_model_len = model, int(max_model_len)
        self.gpu_memory_utilization, self.tensor_parallel_size = float(gpu_memory_utilization), int(tensor_parallel_size)
        self.max_images, self.max_tokens, self.temperature = int(max_images), int(max_tokens), float(temperature)
        self.top_logprobs, self.batch_size, self.dtype, self.seed = int(top_logprobs), int(batch_size), dtype, int(seed)
        self.enforce_eager, self.mm_processor_kwargs = bool(enforce_eager), dict(mm_processor_kwargs or {})
        self._llm = llm
        self.calls = 0

    def cache_key(self) -> dict:
        return semantic_config({"name": self.name, "model": self.model, "max_tokens": self.max_tokens,
                                "temperature": self.temperature, "dtype": self.dtype,
                                "mm_processor_kwargs": self.mm_processor_kwargs})

    def _engine(self):
        if self._llm is None:
            from vllm import LLM

            self._llm = LLM(model=self.model, max_model_len=self.max_model_len, dtype=self.dtype,
                            gpu_memory_utilization=self.gpu_memory_utilization, seed=self.seed,
                            tensor_parallel_size=self.tensor_parallel_size, enforce_eager=self.enforce_eager,
                            limit_mm_per_prompt={"image": self.max_images},
                            mm_processor_kwargs=self.mm_processor_kwargs or None)
        return self._llm

    def _params(self):
        from vllm import SamplingParams

        return SamplingParams(max_tokens=self.max_tokens, temperature=self.temperature,
                              logprobs=self.top_logprobs, seed=self.seed)

    @staticmethod
    def conversation(req: VLMRequest) -> list[dict]:
        content = [{"type": "image_url", "image_url": {"url": image_to_data_url(im)}} for im in req.images]
        content.append({"type": "text", "text": req.text})
        return ([{"role": "system", "content": req.system}] if req.system else []) + [{"role": "user", "content": content}]

    @staticmethod
    def parse_output(output) -> VLMAnswer:
        """VLMAnswer of one ``RequestOutput`` (first completion)."""
        comp = output.outputs[0]
        positions = [[(getattr(lp, "decoded_token", None) or "", lp.logprob) for lp in pos.values()]
                     for pos in (comp.logprobs or [])]
        p = p_yes_from_positions(positions)
        return VLMAnswer(parse_answer(comp.text) if p is None else p, comp.text)

    def answer(self, requests: list[VLMRequest], sampling_params=None) -> list[VLMAnswer]:
        llm, params = self._engine(), sampling_params or self._params()
        out: list[VLMAnswer] = []
        for i in range(0, len(requests), self.batch_size):
            chunk = requests[i:i + self.batch_size]
            self.calls += len(chunk)
            try:
                results = llm.chat([self.conversation(r) for r in chunk], params, use_tqdm=False)
                out.extend(self.parse_output(r) for r in results)
            except Exception as exc:  # noqa: BLE001 - a failed batch is recorded, the run goes on
                out.extend(VLMAnswer(float("nan"), f"ERROR: {exc}") for _ in chunk)
        return out
