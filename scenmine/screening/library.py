"""The few-shot library: screened prompt-program pairs, stored as JSONL, and retrieval.

One JSON object per line: ``prompt``, ``program``, ``score`` (TS-BA on the training logs),
``iterations`` (generations it took), ``backend`` and ``source_run`` (the MLflow run id, or
run folder, that screened it). ``load_library`` reads a file, a run folder, or an MLflow run
(``<run_id>`` or ``runs:/<run_id>/<path>``), so one screening run serves many experiments.
"""
from __future__ import annotations

import json
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from scenmine.generate.base import Example
from scenmine.retrieval import DEFAULT_EMBEDDING_MODEL, build_retriever, rank

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


class Library:
    """Curated prompt-program pairs; ``retrieve`` returns the k most similar to a prompt.

    ``retriever`` (``generate.fewshot.retriever``): any of :mod:`scenmine.retrieval`
    (``similarity``/``lexical`` BM25, ``embedding``, ``first`` file order, ``none``).
    """

    def __init__(self, examples, retriever: str = "lexical",
                 embedding_model: str = DEFAULT_EMBEDDING_MODEL, exclude_same_prompt: bool = True):
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
        """The scorer over the entries' prompts, built once (None for ``first``, ``none``)."""
        if self._retriever is None:
            self._retriever = build_retriever(self.retriever_name, [e.prompt for e in self.entries],
                                              self.embedding_model)
        return self._retriever

    def retrieve(self, prompt: str, k: int) -> list[Example]:
        """The k entries whose prompts are most similar to ``prompt`` (never the prompt
        itself when ``exclude_same_prompt``), by :func:`scenmine.retrieval.rank`."""
        if k <= 0 or not self.entries:
            return []
        chosen = rank(prompt, self.entries, k, self.retriever_name, self.retriever(),
                      self.exclude_same_prompt)
        return [self.entries[i].example for i in chosen]

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
