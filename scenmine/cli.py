"""Running a Hydra entry point (``python -m scenmine``, ``python -m scenmine.report``) so that
every expected error is one line: composition errors (a typo in a key, an unknown option) are
caught here; the entry point reports its own expected errors and calls ``fail``."""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf.errors import OmegaConfBaseException

log = logging.getLogger("scenmine")
USAGE_ERROR = 2


class JobFailed(Exception):
    """A sweep job ended on an expected error, already reported in one line."""

    def __init__(self, code: int):
        super().__init__(code)  # picklable: sweep jobs may run in other processes
        self.code = code


_exit_code = 0  # a single run's exit code, set by fail()


def fail(code: int, message: str, *args) -> None:
    """Report an expected error in one line; a single run exits with ``code`` once the entry
    point returns, a sweep job fails (the sweep ends with ``code`` after its other jobs)."""
    global _exit_code
    log.error(message, *args)
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        raise JobFailed(code)
    _exit_code = code


def one_line(exc: BaseException, unknown_key: Callable[[str], str] | None = None) -> str:
    """A Hydra/OmegaConf composition error in one line, naming the key or option."""
    text = " ".join(str(exc).split())
    cause = exc.__cause__
    if unknown_key and "Could not override" in text and cause is not None \
            and "not in struct" in str(cause):
        return unknown_key(text.split("'")[1])
    return text.split(" Config search path:")[0]


def run_hydra(main: Callable[[], object], args: list[str] | None = None,
              unknown_key: Callable[[str], str] | None = None) -> None:
    """Call the ``@hydra.main`` function ``main`` with ``args`` (default: the command line)."""
    global _exit_code
    _exit_code = 0
    sys.argv = [sys.argv[0], *(sys.argv[1:] if args is None else args)]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises; expected errors are reported below
    try:
        main()
    except JobFailed as exc:  # a sweep job failed; its error is already reported
        sys.exit(exc.code)
    except (HydraException, OmegaConfBaseException) as exc:  # composing the config failed
        print(f"scenmine: configuration error: {one_line(exc, unknown_key)}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    except BrokenPipeError:  # e.g. `scenmine --help | head`
        sys.stderr.close()
        sys.exit(0)
    if _exit_code:
        sys.exit(_exit_code)
