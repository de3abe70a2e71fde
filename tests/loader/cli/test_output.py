"""--output: the file appears whole or not at all, and a bad path is one clear error."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from loader.cli.output import OutputError, atomic_file


def test_the_file_is_moved_into_place_only_on_success(tmp_path: Path):
    target = tmp_path / "detail.csv"
    target.write_bytes(b"previous export\n")
    target.chmod(0o640)

    with pytest.raises(RuntimeError), atomic_file(target) as stream:
        stream.write(b"half of a new export")
        raise RuntimeError("the database went away")
    assert target.read_bytes() == b"previous export\n"

    # a full disk: the error the write (or the final flush) raises
    with pytest.raises(OutputError, match="No space left on device"), atomic_file(target) as stream:
        stream.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_bytes() == b"previous export\n"

    with atomic_file(target) as stream:
        stream.write(b"new export\n")
    assert target.read_bytes() == b"new export\n"
    assert target.stat().st_mode & 0o777 == 0o640  # the file's own mode, kept
    assert sorted(path.name for path in tmp_path.iterdir()) == ["detail.csv"]  # no temporary left


def test_a_missing_folder_or_a_folder_is_refused_before_anything_is_written(tmp_path: Path):
    with (
        pytest.raises(OutputError, match=r"the folder .*missing does not exist"),
        atomic_file(tmp_path / "missing" / "x.csv"),
    ):
        pass
    with pytest.raises(OutputError, match="is a folder: name a file"), atomic_file(tmp_path):
        pass
    assert list(tmp_path.iterdir()) == []
