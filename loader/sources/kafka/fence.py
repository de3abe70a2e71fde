"""The offset fence: raw.kafka_offsets holds, per partition, the next offset to land.

A batch moves each partition's offset with a compare-and-set (`... set next_offset = end where
next_offset = start`) in the transaction that lands its rows. If one touches no row, another loader
(or an operator) moved the offset since we read it: the batch rolls back (Fenced). That fence, not
the consumer group, is what keeps a paused or zombie loader from writing a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg

MOVE_OFFSET = (
    "update raw.kafka_offsets set next_offset = %s, updated_at = now()"
    " where kafka_topic = %s and kafka_partition = %s and next_offset = %s"
)
STORED_OFFSETS = "select kafka_partition, next_offset from raw.kafka_offsets where kafka_topic = %s"
INSERT_OFFSETS = (
    "insert into raw.kafka_offsets (kafka_topic, kafka_partition, next_offset)"
    " select %s, unnest(%s::integer[]), unnest(%s::bigint[])"
    " on conflict (kafka_topic, kafka_partition) do nothing"
)


class LoaderError(RuntimeError):
    """The loader cannot go on safely; the message names the topic and partition."""


class Fenced(Exception):
    def __init__(self, partition: int, start: int) -> None:
        super().__init__(f"partition {partition}: stored offset is no longer {start}")


def move_offsets(conn: psycopg.Connection, topic: str, ranges: Mapping[int, tuple[int, int]]) -> None:
    """Move each partition's stored offset from start to end (ranges: partition -> (start, end)),
    inside the caller's transaction; raise Fenced if one is not at its start any more."""
    # Sorted, so concurrent loaders lock offset rows in the same order and cannot deadlock.
    for partition, (start, end) in sorted(ranges.items()):
        moved = conn.execute(MOVE_OFFSET, (end, topic, partition, start)).rowcount
        if moved != 1:
            raise Fenced(partition, start)


def stored_offsets(
    conn: psycopg.Connection, topic: str, wanted: set[int], first: Mapping[int, int]
) -> dict[int, int]:
    """Stored next offsets of the `wanted` partitions, inserting `first` for partitions not stored yet."""
    new = sorted(wanted & first.keys())
    with conn.transaction():
        if new:
            conn.execute(INSERT_OFFSETS, (topic, new, [first[p] for p in new]))
        rows = conn.execute(STORED_OFFSETS, (topic,)).fetchall()
    return {partition: offset for partition, offset in rows if partition in wanted}
