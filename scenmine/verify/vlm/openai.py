"""OpenAI-compatible vision chat endpoint (e.g. ``vllm serve Qwen/Qwen3-VL-8B-Instruct``)."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from .base import (
    VLMAnswer,
    VLMRequest,
    image_to_data_url,
    p_yes_from_positions,
    parse_answer,
    semantic_config,
)


class OpenAIVLM:
    """Chat-completions client (openai SDK); P(yes) from ``top_logprobs`` when the server gives them."""

    name = "openai"

    def __init__(self, model: str, base_url: str = "http://127.0.0.1:8000/v1", api_key: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", max_tokens: int = 8, temperature: float = 0.0,
                 top_logprobs: int = 10, logprobs: bool = True, timeout_s: float = 120.0,
                 max_retries: int = 3, concurrency: int = 4, image_format: str = "JPEG",
                 image_quality: int = 90, extra_body: dict | None = None, **_: object):
        self.model, self.base_url = model, base_url.rstrip("/")
        self.api_key = api_key or os.environ.get(api_key_env or "", "") or "EMPTY"
        self.max_tokens, self.temperature = int(max_tokens), float(temperature)
        self.top_logprobs, self.logprobs = int(top_logprobs), bool(logprobs)
        self.timeout_s, self.max_retries, self.concurrency = float(timeout_s), int(max_retries), int(concurrency)
        self.image_format, self.image_quality = image_format, int(image_quality)
        self.extra_body = dict(extra_body or {})
        self.calls = 0

    def cache_key(self) -> dict:
        return semantic_config({k: v for k, v in vars(self).items() if k not in ("calls", "base_url", "_sdk_client")})

    def _payload(self, req: VLMRequest) -> dict:
        content = [{"type": "image_url",
                    "image_url": {"url": image_to_data_url(im, self.image_format, self.image_quality)}}
                   for im in req.images]
        content.append({"type": "text", "text": req.text})
        messages = ([{"role": "system", "content": req.system}] if req.system else [])
        messages.append({"role": "user", "content": content})
        body = {"model": self.model, "messages": messages, "max_tokens": self.max_tokens,
                "temperature": self.temperature, **self.extra_body}
        if self.logprobs:
            body.update(logprobs=True, top_logprobs=self.top_logprobs)
        return body

    def _client(self):
        """The openai SDK client (its own retries off: the shared policy retries)."""
        client = self.__dict__.get("_sdk_client")
        if client is None:
            import openai
            client = openai.OpenAI(api_key=self.api_key, base_url=self.base_url,
                                   timeout=self.timeout_s, max_retries=0)
            self.__dict__["_sdk_client"] = client
        return client

    def _post(self, body: dict) -> dict:
        """One chat completion through the SDK and the one retry policy of the LLM backends
        (validation errors and other 4xx fail at once; transient errors back off)."""
        import openai

        from scenmine.generate.backends._sdk import map_error
        from scenmine.generate.backends.retry import RetryPolicy

        body = dict(body)
        kwargs = {k: body.pop(k) for k in ("model", "messages", "max_tokens", "temperature",
                                           "logprobs", "top_logprobs") if k in body}

        def once() -> dict:
            self.calls += 1
            try:
                resp = self._client().chat.completions.create(**kwargs, extra_body=body or None)
            except openai.OpenAIError as exc:
                raise map_error(exc, openai, self.base_url, None) from exc
            return resp.model_dump()

        policy = RetryPolicy(self.max_retries, backoff_s=0.5, backoff_max_s=8.0)
        return policy.run(once, "vlm")[0]

    def _one(self, req: VLMRequest) -> VLMAnswer:
        try:
            return self._ask(req)
        except Exception as exc:  # noqa: BLE001 - one failed pair is recorded, the run goes on
            return VLMAnswer(float("nan"), f"ERROR: {exc}")

    def _ask(self, req: VLMRequest) -> VLMAnswer:
        choice = self._post(self._payload(req))["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
        lp = (choice.get("logprobs") or {}).get("content") or []
        positions = [[(c.get("token", ""), c.get("logprob")) for c in (pos.get("top_logprobs") or [])]
                     or [(pos.get("token", ""), pos.get("logprob"))] for pos in lp]
        p = p_yes_from_positions(positions)
        return VLMAnswer(parse_answer(text) if p is None else p, text)

    def answer(self, requests: list[VLMRequest]) -> list[VLMAnswer]:
        if len(requests) <= 1 or self.concurrency <= 1:
            return [self._one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, requests))
