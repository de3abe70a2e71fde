"""Records as COPY text for raw.notification_events, and the dead letters as rows.

Values are written as the bytes received (COPY-escaped), never parsed and re-serialised.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from kafka.consumer.fetcher import ConsumerRecord

COPY_EVENTS = (
    "copy raw.notification_events"
    " (kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, kafka_key, kafka_headers, payload)"
    " from stdin"
)
COPY_REJECTED = (
    "copy raw.notification_events_rejected"
    " (kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, kafka_key, kafka_headers, raw_value,"
    " error) from stdin"
)
# Kafka timestamps are whatever producers set: none (-1) or past year 9999 land as null.
MAX_TIMESTAMP_MS = 253_402_300_800_000


@dataclass
class Batch:
    """One poll's worth of messages, encoded for COPY. ranges: partition -> [start, end)."""

    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)
    rows: list[bytes] = field(default_factory=list)
    # the record behind each row, to move it to the dead letters if PostgreSQL refuses it after all
    records: list[ConsumerRecord] = field(default_factory=list)
    rejected: list[tuple[object, ...]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.rejected)

    def reject(self, record: ConsumerRecord, error: str) -> None:
        self.add_rejected(
            record.partition,
            record.offset,
            topic=record.topic,
            timestamp_ms=record.timestamp,
            key=record.key,
            headers=None if headers_error(record.headers) else headers_json(record.headers),
            raw_value=record.value,
            error=error,
        )

    def add_rejected(
        self,
        partition: int,
        offset: int,
        *,
        topic: str,
        timestamp_ms: int | None,
        key: bytes | None,
        headers: str | None,
        raw_value: bytes | None,
        error: str,
    ) -> None:
        self.rejected.append(
            (topic, partition, offset, timestamp(timestamp_ms), key, headers, raw_value, error)
        )


Headers = Sequence[tuple[str, bytes | None]]


def headers_json(headers: Headers | None) -> str | None:
    """The record's headers as received, in order, duplicates kept: a JSON array of
    {"key": text, "value": base64 or null}; null for a record without headers."""
    if not headers:
        return None
    return orjson.dumps(
        [
            {"key": key, "value": None if value is None else base64.b64encode(value).decode()}
            for key, value in headers
        ]
    ).decode()


def headers_error(headers: Headers | None) -> str | None:
    """Why the headers cannot be kept, if they cannot (jsonb has no \\u0000)."""
    if headers and any("\x00" in key for key, _value in headers):
        return "a header key contains \\u0000 (jsonb cannot hold it; headers not kept)"
    return None


def timestamp(timestamp_ms: int | None) -> datetime | None:
    if timestamp_ms is None or not 0 <= timestamp_ms < MAX_TIMESTAMP_MS:
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


class CopyText:
    """Records as COPY text rows, envelope fields cached: a batch repeats timestamps (one per
    producer batch) and keys (one per customer) over and over."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._timestamps: dict[int, bytes] = {}
        self._keys: dict[bytes, bytes] = {}

    def rows(self, topic: str, partition: int, records: Sequence[ConsumerRecord]) -> list[bytes]:
        """One COPY_EVENTS row per record, in order; the values must be valid JSON (payload_error)
        and the headers keepable (headers_error)."""
        prefix = b"%s\t%d\t" % (topic.encode(), partition)
        timestamp_text, key_text = self.timestamp, self.key
        return [
            b"%s%d\t%s\t%s\t%s\t%s\n"
            % (
                prefix,
                record.offset,
                timestamp_text(record.timestamp),
                key_text(record.key),
                _headers_text(record.headers),
                value,
            )
            for record, value in zip(records, copy_escaped_values(records), strict=True)
        ]

    def timestamp(self, timestamp_ms: int | None) -> bytes:
        if timestamp_ms is None or not 0 <= timestamp_ms < MAX_TIMESTAMP_MS:
            return b"\\N"
        text = self._timestamps.get(timestamp_ms)
        if text is None:
            if len(self._timestamps) > self.LIMIT:
                self._timestamps.clear()
            seconds, millis = divmod(timestamp_ms, 1000)
            text = b"%s.%03d+00" % (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)).encode(), millis)
            self._timestamps[timestamp_ms] = text
        return text

    def key(self, key: bytes | None) -> bytes:
        if key is None:
            return b"\\N"
        text = self._keys.get(key)
        if text is None:
            if len(self._keys) > self.LIMIT:
                self._keys.clear()
            text = b"\\\\x" + binascii.hexlify(key)  # bytea hex input, its backslash escaped
            self._keys[key] = text
        return text


def _headers_text(headers: Headers | None) -> bytes:
    if not headers:
        return b"\\N"
    # JSON escapes control characters, so only its backslashes need escaping for COPY.
    return headers_json(headers).encode().replace(b"\\", b"\\\\")


def copy_escaped_values(records: Sequence[ConsumerRecord]) -> list[bytes]:
    """The values, escaped for COPY text format, in one pass over the whole batch.

    A backslash starts an escape; tab, newline and CR separate fields and rows. Valid JSON has
    the last three only as whitespace between tokens, and never a NUL byte, so NUL can join the
    values for one bulk replace per character instead of four calls per value."""
    joined = b"\x00".join([record.value for record in records])
    escaped = (
        joined.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r").replace(b"\t", b"\\t")
    )
    return escaped.split(b"\x00") if records else []
