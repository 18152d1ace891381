"""Stage 2, training-set screening: the few-shot library later runs retrieve examples from.

The implementation lives in :mod:`scenmine.screening`; this module is the pipeline's entry.
With ``screening=off`` no screening runs; a library given in ``screening.library`` is still
loaded, so one screening run serves many experiments.
"""
from __future__ import annotations

from scenmine.screening import Entry, Library, build_library, load_library, screen

__all__ = ["Entry", "Library", "build_library", "load_library", "screen"]
