"""Writer threads: each has a PostgreSQL connection of its own and lands batches in one
transaction each, offsets first (the fence), then the COPY.

The loader's main thread polls, validates and encodes the next batch while the writers land the
previous one, so Python and PostgreSQL work in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import psycopg

from loader.sources.kafka.encoding import COPY_EVENTS, COPY_REJECTED, Batch
from loader.sources.kafka.fence import LoaderError, move_offsets

_T = TypeVar("_T")
_COPY_LINE = re.compile(r"\bline (\d+)\b")
IDLE_IN_TRANSACTION_S = 60


def land_batch(conn: psycopg.Connection, topic: str, batch: Batch) -> None:
    """Land a batch in one transaction, offsets first; raise Fenced (nothing written) if the
    stored offset of any partition is not the batch's start any more."""
    with conn.transaction():
        move_offsets(conn, topic, batch.ranges)
        try:
            with conn.cursor() as cursor:
                _copy_events(conn, cursor, batch)
                if batch.rejected:
                    with cursor.copy(COPY_REJECTED) as copy:
                        for row in batch.rejected:
                            copy.write_row(row)
        except psycopg.errors.UniqueViolation as error:
            raise LoaderError(
                f"topic {topic}: an offset of {dict(sorted(batch.ranges.items()))} is already landed;"
                " raw.kafka_offsets was moved back without deleting the rows it covers"
                f" (see README, replaying from an offset): {error.diag.message_detail}"
            ) from None


def _copy_events(conn: psycopg.Connection, cursor: psycopg.Cursor[object], batch: Batch) -> None:
    """COPY the rows; a value payload_error let through but jsonb refuses (an exotic number, say)
    goes to the dead letters and the COPY is retried, so the partition never stalls."""
    while batch.rows:
        try:
            with conn.transaction(), cursor.copy(COPY_EVENTS) as copy:
                copy.write(b"".join(batch.rows))
            return
        except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded) as error:
            line = _COPY_LINE.search(error.diag.context or "")
            if line is None:
                raise
            index = int(line.group(1)) - 1
            del batch.rows[index]
            batch.reject(batch.records.pop(index), f"PostgreSQL refused it: {error.diag.message_primary}")


class Writer:
    """A thread with a connection of its own: what is submitted to it commits in order."""

    def __init__(self, connect: Callable[[], psycopg.Connection], name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        try:
            self._conn = self._executor.submit(connect).result()
            # A loader paused inside a transaction keeps its partitions' offset rows locked and
            # the loader that took them over waiting; PostgreSQL ends such a session.
            self._conn.execute(f"set idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_S}s'")
        except BaseException:
            self._executor.shutdown()
            raise

    def submit(self, work: Callable[[psycopg.Connection], _T]) -> Future[_T]:
        return self._executor.submit(work, self._conn)

    def close(self) -> None:
        self._executor.submit(self._conn.close).result()
        self._executor.shutdown()
