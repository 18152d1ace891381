"""Reading untrusted pkl files (ground truth, tracker predictions, submissions) safely.

The official formats are plain containers (dict, list, tuple) of strings, numbers and numpy
arrays and scalars. Unpickling may otherwise call anything importable, so ``load`` only
resolves the few numpy constructors those formats need (``ALLOWED``); a file that asks for
anything else is refused with one line naming the file and what it asked for, before any of
it runs. Every pkl this code base reads goes through ``load``; a reader of other pickles of
its own names the few extra classes it expects in ``allow``; scenmine's run store (pickled
dataclasses of its own) reads its units with ``loads(..., dataclasses_of="scenmine")``.
"""
from __future__ import annotations

import dataclasses
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
    def __init__(self, fh, source: str, allow: frozenset, dataclasses_of: str | None = None):
        super().__init__(fh)
        self.source, self.allowed, self.package = source, ALLOWED | allow, dataclasses_of

    def find_class(self, module: str, name: str):
        if (module, name) in self.allowed:
            return super().find_class(module, name)
        if self.package and (module == self.package or module.startswith(self.package + ".")):
            found = super().find_class(module, name)  # imports one of the package's own modules
            if isinstance(found, type) and dataclasses.is_dataclass(found):
                return found
        what = f"a dataclass of {self.package}" if self.package else \
            "a ground-truth, tracker or submission pkl"
        raise UnsafePickle(f"{self.source}: refused: it asks for {module}.{name}, which {what} "
                           "never needs")


def loads(payload: bytes, source: str, allow=(), dataclasses_of: str | None = None):
    """The object pickled in ``payload`` (``source`` names it in errors), built only from
    containers, numpy values, the ``(module, name)`` pairs in ``allow`` and, with
    ``dataclasses_of`` (a package name), that package's dataclasses: the classes a store of
    the package's own records holds; never a function, whatever module it is in. UnsafePickle
    (one line) if it asks for more or cannot be read."""
    import io

    try:
        return _RestrictedUnpickler(io.BytesIO(payload), source, frozenset(allow),
                                    dataclasses_of).load()
    except UnsafePickle:
        raise
    except Exception as exc:  # truncated or corrupt: any of pickle's many errors
        raise UnsafePickle(f"{source}: not a readable pickle ({type(exc).__name__}: "
                           f"{str(exc)[:200]})") from None


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
