"""Benchmarks: ``python -m scenmine.bench dsl`` (the DSL program library on real logs) and
``python -m scenmine.bench scale`` (added by scenmine.bench.scale)."""
