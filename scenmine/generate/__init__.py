"""Code generation: a prompt becomes a scenario program (see docs/architecture.md)."""
from .base import Example, Generation, Generator


def build_generator(cfg, logs=(), runner=None) -> Generator:
    """See :func:`scenmine.generate.factory.build_generator`."""
    from .factory import build_generator as _build
    return _build(cfg, logs=logs, runner=runner)


__all__ = ["Example", "Generation", "Generator", "build_generator"]
