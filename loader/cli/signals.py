"""Graceful stop for the long-running commands (`load kafka`, `run`)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger("warehouse")


def stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM ask the loader to finish (or roll back) its batch and exit 0; a second
    SIGINT interrupts at once."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping after the current batch", signal.Signals(signum).name)
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop
