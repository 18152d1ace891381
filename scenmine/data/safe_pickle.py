"""Reading untrusted pkl files (ground truth, tracker predictions, submissions) safely.

The official formats are plain containers (dict, list, tuple) of strings, numbers and numpy
arrays and scalars. Unpickling may otherwise call anything importable, so ``load`` only
resolves the few numpy constructors those formats need (``ALLOWED``); a file that asks for
anything else is refused with one line naming the file and what it asked for, before any of
it runs. Every pkl this code base reads goes through ``load``; a reader of other pickles of
its own (e.g. a cache of dataclasses) names the few extra classes it expects in ``allow``.
"""
from __future__ import annotations

import pickle
from pathlib import Path

# (module, name) pairs a numpy array, dtype or scalar pickle refers to, numpy 1.x and 2.x
ALLOWED = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # bytes in protocol-2 pickles of numpy scalars and arrays
})


class UnsafePickle(ValueError):
    """A pkl that is unreadable or asks for something the official formats never need."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, fh, source: str, allow: frozenset):
        super().__init__(fh)
        self.source, self.allowed = source, ALLOWED | allow

    def find_class(self, module: str, name: str):
        if (module, name) not in self.allowed:
            raise UnsafePickle(f"{self.source}: refused: it asks for {module}.{name}, which a "
                               "ground-truth, tracker or submission pkl never needs")
        return super().find_class(module, name)


def load(path: str | Path, allow=()):
    """The object in the pkl at ``path``, built only from containers, numpy values and the
    ``(module, name)`` pairs in ``allow``; UnsafePickle (one line naming the file) if it asks
    for more or cannot be read."""
    try:
        with open(path, "rb") as fh:
            return _RestrictedUnpickler(fh, str(path), frozenset(allow)).load()
    except UnsafePickle:
        raise
    except OSError as exc:
        raise UnsafePickle(f"{path}: cannot read: {exc.strerror or exc}") from None
    except Exception as exc:  # truncated or corrupt: any of pickle's many errors
        raise UnsafePickle(f"{path}: not a readable pickle ({type(exc).__name__}: "
                           f"{str(exc)[:200]})") from None
