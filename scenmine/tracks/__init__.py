"""Tracker tracks: refinement (``tracks.refine``) and a tracker-like noise generator."""
from scenmine.tracks.noise import NoiseOptions, make_noisy
from scenmine.tracks.refinement import RefineOptions, options_from_cfg, refine

__all__ = ["NoiseOptions", "RefineOptions", "make_noisy", "options_from_cfg", "refine"]
