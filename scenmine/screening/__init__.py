"""Stage 2, training-set screening: the few-shot library later runs retrieve examples from.

- :mod:`.stage`: generate -> execute on the training logs -> TS-BA -> keep or regenerate
- :mod:`.library`: the JSONL library (file, run folder or MLflow run) and retrieval
"""
from scenmine.screening.library import (
                                        ARTIFACT,
                                        Entry,
                                        Library,
                                        library_path,
                                        load_library,
)
from scenmine.screening.stage import (
                                        Attempt,
                                        PromptResult,
                                        ScreeningResult,
                                        build_library,
                                        feedback_text,
                                        screen,
)

__all__ = ["ARTIFACT", "Attempt", "Entry", "Library",
           "PromptResult", "ScreeningResult", "build_library", "feedback_text", "library_path",
           "load_library", "screen"]
