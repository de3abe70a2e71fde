"""A one-line progress bar for interactive runs (stderr on a terminal only)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, stream: TextIO = sys.stderr, *, interval_s: float = 0.2) -> None:
        self._stream = stream
        self._interval_s = interval_s
        self._drawn_at = 0.0

    def update(self, done: int, total: int, detail: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn_at < self._interval_s:
            return
        self._drawn_at = now
        fraction = done / total if total else 0.0
        filled = round(WIDTH * fraction)
        bar = "#" * filled + "-" * (WIDTH - filled)
        self._stream.write(f"\r\x1b[K[{bar}] {fraction:4.0%} {done:,}/{total:,} {detail}")
        self._stream.flush()

    def clear_line(self, _record: object = None) -> bool:
        """Wipe the bar so a log line starts clean (usable as a logging filter); it comes back
        at the next update."""
        if self._drawn_at:
            self._stream.write("\r\x1b[K")
            self._drawn_at = 0.0
        return True

    def close(self) -> None:
        """End the bar's line, keeping it on screen. Idempotent."""
        if self._drawn_at:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn_at = 0.0
