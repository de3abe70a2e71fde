"""The interactive progress bar."""

from __future__ import annotations

import io

from loader.progress import ProgressBar


def test_draws_one_rewritten_line():
    stream = io.StringIO()
    bar = ProgressBar(stream, interval_s=0)
    bar.update(250, 1_000, "msgs")
    bar.update(1_000, 1_000, "msgs")
    bar.close()
    assert stream.getvalue().split("\r\x1b[K")[1:] == [
        f"[{'#' * 8}{'-' * 22}]  25% 250/1,000 msgs",
        f"[{'#' * 30}] 100% 1,000/1,000 msgs\n",
    ]


def test_throttles_redraws():
    stream = io.StringIO()
    bar = ProgressBar(stream, interval_s=60)
    bar.update(1, 10, "")
    bar.update(2, 10, "")
    bar.update(3, 10, "", force=True)
    assert stream.getvalue().count("\r") == 2


def test_a_log_line_wipes_the_bar_first():
    stream = io.StringIO()
    bar = ProgressBar(stream, interval_s=0)
    bar.update(1, 2, "msgs")
    assert bar.clear_line() is True
    bar.close()  # nothing drawn since: no newline
    assert stream.getvalue().endswith("msgs\r\x1b[K")
