"""Atomic, idempotent landing of whole files into a raw table.

A file loads in one transaction: its checksum row in raw.loaded_files and every parsed row, or
nothing. Rows are validated while they stream into COPY; the first bad one raises InputError and
the transaction rolls back, so memory stays flat for any file size and nothing is half-written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

Row = Sequence[object]


class InputError(ValueError):
    """Bad input; the message names the file and the line or element."""


@dataclass(frozen=True)
class FileLoad:
    path: Path
    load_id: int
    rows: int
    skipped: bool

    def describe(self) -> str:
        if self.skipped:
            return f"skipped {self.path}: this content was already loaded (load id {self.load_id})"
        return f"loaded {self.path}: {self.rows} rows (load id {self.load_id})"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def land_file(
    conn: psycopg.Connection,
    *,
    source: str,
    path: Path,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Row],
    allow_empty: bool = False,
) -> FileLoad:
    """Land `rows` (parsed from `path`) into raw.<table> with the file's load id appended.

    A file without rows is an error unless `allow_empty`; then it is recorded as loaded.
    """
    checksum = file_sha256(path)
    with conn.transaction():
        # Concurrent loads of the same content serialise on the unique key; the loser sees it done.
        inserted = conn.execute(
            "insert into raw.loaded_files (source, file_name, file_sha256, row_count)"
            " values (%s, %s, %s, 0) on conflict (source, file_sha256) do nothing returning load_id",
            (source, str(path), checksum),
        ).fetchone()
        if inserted is None:
            existing = conn.execute(
                "select load_id from raw.loaded_files where source = %s and file_sha256 = %s",
                (source, checksum),
            ).fetchone()
            assert existing is not None
            return FileLoad(path=path, load_id=existing[0], rows=0, skipped=True)
        load_id = inserted[0]
        copy_sql = sql.SQL("copy raw.{} ({}) from stdin").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.Identifier(name) for name in (*columns, "load_id")),
        )
        count = 0
        with conn.cursor().copy(copy_sql) as copy:
            for row in rows:
                copy.write_row((*row, load_id))
                count += 1
        if count == 0 and not allow_empty:
            raise InputError(f"{path}: no data rows")
        conn.execute("update raw.loaded_files set row_count = %s where load_id = %s", (count, load_id))
    return FileLoad(path=path, load_id=load_id, rows=count, skipped=False)
