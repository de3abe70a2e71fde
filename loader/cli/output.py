"""Where a report goes: stdout, or a file that appears only once it is complete."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


class OutputError(Exception):
    """--output cannot be written: one line saying why."""


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file written under a temporary name beside `path` and moved onto it only when the block
    succeeds, so a failed run (a database error, a full disk) leaves an existing file as it was."""
    if path.is_dir():
        raise OutputError(f"--output {path} is a folder: name a file")
    if not path.parent.is_dir():
        raise OutputError(f"--output {path}: the folder {path.parent} does not exist")
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
        ) as stream:
            temporary = Path(stream.name)
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # the mode an ordinary open() would give: the existing file's, or the umask's
        if path.exists():
            shutil.copymode(path, temporary)
        else:
            umask = os.umask(0)
            os.umask(umask)
            temporary.chmod(0o666 & ~umask)
        temporary.replace(path)
    except OSError as error:
        _discard(temporary)
        raise OutputError(f"--output {path}: {error.strerror or error}") from None
    except BaseException:
        _discard(temporary)
        raise


def _discard(temporary: Path | None) -> None:
    if temporary is not None:
        temporary.unlink(missing_ok=True)


def notice(message: str, output_format: str) -> None:
    """A sentence about the report (why it is empty): part of a text report; on stderr beside csv or
    json, which stay machine-readable."""
    print(message, file=sys.stdout if output_format == "text" else sys.stderr, flush=True)
