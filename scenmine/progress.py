"""Progress for long steps: a bar over known units (tqdm), or, for one long opaque call such as
the official evaluator, a line every ``interval_s`` seconds saying it is still at work."""
from __future__ import annotations

import contextlib
import logging
import threading
import time

log = logging.getLogger("scenmine")


@contextlib.contextmanager
def heartbeat(label: str, enabled: bool = True, interval_s: float = 20.0):
    """Log ``label: still running (N s)`` every ``interval_s`` while the block runs."""
    if not enabled:
        yield
        return
    stop = threading.Event()
    start = time.perf_counter()

    def beat():
        while not stop.wait(interval_s):
            log.info("%s: still running (%.0f s)", label, time.perf_counter() - start)

    thread = threading.Thread(target=beat, name=f"heartbeat {label}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
