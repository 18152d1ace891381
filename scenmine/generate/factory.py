"""build_generator(cfg): the Generator the pipeline uses, from the composed config."""
from __future__ import annotations

from collections.abc import Callable

from .backends.base import ChatBackend
from .base import Generator


def _get(cfg, path: str, default=None):
    from omegaconf import OmegaConf
    value = OmegaConf.select(cfg, path, default=default)
    return default if value is None else value


def build_generator(cfg, logs=(), runner: Callable | str | None = None) -> Generator:
    """``cfg.llm`` (a ``_target_``) + ``cfg.generate`` + ``cfg.prompts`` -> a Generator.

    ``logs`` are training log folders for dry runs and execution feedback (else
    ``generate.dry_run_logs``); ``runner`` defaults to ``scenmine.execute.runner.run_program``.
    A target that is not a ChatBackend (``llm=rules``) is returned as is.
    """
    from hydra.utils import instantiate

    from .prompts import Prompts
    from .strategies import LLMGenerator
    from .tools import load_runner

    g = _get(cfg, "generate", {})
    kwargs = {}
    if is_chat_backend(cfg) and _get(g, "cache", True) and _get(g, "cache_dir") and \
            _get(cfg, "llm.cache_dir") is None and "replay" not in str(cfg.llm._target_).lower():
        kwargs["cache_dir"] = str(_get(g, "cache_dir"))
    obj = instantiate(cfg.llm, **kwargs, _convert_="all")
    logs = [str(p) for p in (logs or _get(g, "dry_run_logs", []) or [])]
    atoms = _get(g, "atoms", "extended")
    if not isinstance(obj, ChatBackend):
        if atoms != "extended":
            obj = AtomPool(obj, atoms)
        return with_augmentation(obj, cfg, logs, runner)
    if logs and hasattr(obj, "set_dry_run_logs"):
        obj.set_dry_run_logs(logs)
    needs_runner = bool(logs) and (int(_get(g, "execution_feedback", 0) or 0) > 0 or
                                   _get(g, "strategy") in ("agent", "decompose") or
                                   _get(g, "check_on_log", True))
    try:
        run = load_runner(runner) if needs_runner else None
    except ImportError:
        run = None  # the execute module is missing: no dry runs, generation still works
    fewshot = _get(g, "fewshot", {})
    return with_augmentation(LLMGenerator(
        obj, strategy=_get(g, "strategy", "single_pass"),
        namespace=None if atoms == "extended" else dsl_namespace(atoms),
        prompts=Prompts(_get(cfg, "prompts", None)),
        max_error_retries=_get(g, "max_error_retries", 2),
        execution_feedback=_get(g, "execution_feedback", 0),
        feedback_rounds=_get(g, "feedback_rounds", 1), max_turns=_get(g, "max_turns", 12),
        fewshot_k=_get(fewshot, "k", 3), retriever=_get(fewshot, "retriever", "similarity"),
        runner=run, logs=logs, dry_run_timeout_s=_get(g, "dry_run_timeout_s", 60),
        check_on_log=_get(g, "check_on_log", True), concurrency=_get(g, "concurrency", 4),
        tools=_get(g, "tools", "auto"), final_after=_get(g, "final_after", None),
        max_repeats=_get(g, "max_repeats", 2), fallback_after=_get(g, "fallback_after", 2)),
        cfg, logs, run)


def dsl_namespace(atoms: str) -> dict:
    """The DSL names a generator may use under ``generate.atoms``."""
    from scenmine.dsl import namespace_for
    return namespace_for(atoms)


class AtomPool:
    """Wraps a generator that has no DSL reference to shrink (the rules parser): its programs
    that call atoms outside ``generate.atoms`` become generation failures."""

    def __init__(self, inner, atoms: str):
        self.inner, self.atoms = inner, atoms
        self.allowed = set(dsl_namespace(atoms))
        self.name = f"{getattr(inner, 'name', 'generator')}[{atoms}]"

    def generate(self, prompt: str, examples=None, feedback: str | None = None):
        from scenmine.dsl import NAMESPACE

        from .base import generate_with
        from .extract import called_names

        gen = generate_with(self.inner, prompt, examples, feedback)
        if gen.program is None:
            return gen
        outside = sorted(c for c in called_names(gen.program)
                         if c in NAMESPACE and c not in self.allowed)
        if outside:
            gen.program, gen.reason = None, "atoms_outside_pool"
            gen.error = (f"cannot parse: needs atoms outside generate.atoms={self.atoms}: "
                         f"{', '.join(outside)}")
        return gen


def augment_k(cfg) -> int:
    """How many rewrites ``generate.augment`` asks for (0: augmentation off)."""
    return int(_get(cfg, "generate.augment.k", 0) or 0)


def with_augmentation(generator, cfg, logs: list[str], runner=None):
    """``generator`` wrapped in an AugmentedGenerator when ``generate.augment.k`` > 0."""
    k = augment_k(cfg)
    if k <= 0:
        return generator
    from .augment import AugmentedGenerator, LLMParaphraser, RulesParaphraser
    from .tools import load_runner

    a = _get(cfg, "generate.augment", {})
    kind = _get(a, "paraphraser", "auto")
    chat = isinstance(getattr(generator, "backend", None), ChatBackend)
    if kind == "llm" or (kind == "auto" and chat):
        if not chat:
            raise ValueError("generate.augment.paraphraser=llm needs a chat backend (llm=openai, "
                             "anthropic, ...); use paraphraser=rules with llm=rules")
        paraphraser = LLMParaphraser(generator.backend, generator.prompts)
    else:
        paraphraser = RulesParaphraser()
    run = None
    if logs and _get(a, "combine", "vote") == "vote":
        run = runner if callable(runner) else load_runner(runner)
    return AugmentedGenerator(generator, paraphraser, k=k, combine=_get(a, "combine", "vote"),
                              run=run, logs=logs[:int(_get(a, "vote_logs", 3))],
                              timeout_s=float(_get(cfg, "generate.dry_run_timeout_s", 60)))


def is_chat_backend(cfg) -> bool:
    """Whether ``cfg.llm._target_`` names a ChatBackend subclass (it takes cache_dir)."""
    from hydra.utils import get_class
    try:
        return issubclass(get_class(cfg.llm._target_), ChatBackend)
    except Exception:  # noqa: BLE001
        return False
