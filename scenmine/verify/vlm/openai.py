"""OpenAI-compatible vision chat endpoint (e.g. ``vllm serve Qwen/Qwen3-VL-8B-Instruct``)."""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
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
    """Chat-completions client over HTTP; P(yes) from ``top_logprobs`` when the server gives them."""

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
        return semantic_config({k: v for k, v in vars(self).items() if k not in ("calls", "base_url")})

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

    def _post(self, body: dict) -> dict:
        data = json.dumps(body).encode()
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            req = urllib.request.Request(f"{self.base_url}/chat/completions", data=data, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {self.api_key}"})
            try:
                self.calls += 1
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                last = exc
                if exc.code < 500 and exc.code != 429:
                    raise RuntimeError(f"VLM endpoint: HTTP {exc.code}: {exc.read()[:300]!r}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = exc
            time.sleep(min(8.0, 0.5 * 2 ** attempt))
        raise RuntimeError(f"VLM endpoint unreachable after {self.max_retries + 1} tries: {last}")

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
