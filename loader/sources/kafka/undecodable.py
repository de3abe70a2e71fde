"""Record batches kafka-python cannot decode: corrupt, compressed with an unknown codec, or refused
by the codec library. Its consumer raises on such a batch at every poll and never moves past it,
so the loader reads the partition's raw batches itself, finds the first one that fails where the
consumer stands, sends its offsets to the dead letters and seeks past it.

A batch's header (its offsets, codec and first timestamp) is readable without decoding its
records; only a batch whose header itself is broken cannot be delimited, and then the loader stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kafka.errors import CorruptRecordError
from kafka.net.compat import KafkaNetClient
from kafka.protocol.consumer import FetchRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.record import MemoryRecords
from kafka.record.default_records import DefaultRecordBatch

# Fetch v11 still names topics (v13 wants topic ids); every broker since Kafka 2.3 answers it.
FETCH_VERSION = 11
READ_COMMITTED = 1
# Enough for a whole batch of the largest message a default broker takes.
FETCH_BYTES = 8 << 20
TIMEOUT_MS = 10_000
_FetchTopic = FetchRequest.FetchTopic


@dataclass(frozen=True)
class RawBatch:
    """A record batch as the broker stores it, and why its records cannot be decoded, if so."""

    partition: int
    start: int  # base offset
    end: int  # offset after its last record
    codec: int  # 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
    timestamp_ms: int
    data: bytes
    error: str | None

    def reason(self) -> str:
        return f"record batch at offsets {self.start}..{self.end - 1} cannot be decoded: {self.error}"


def find(bootstrap: str, topic: str, positions: Mapping[int, int]) -> RawBatch | None:
    """The first batch that cannot be decoded at or after its partition's position, or None."""
    for batches in read(bootstrap, topic, positions).values():
        for batch in batches:
            if batch.error is not None:
                return batch
    return None


def read(bootstrap: str, topic: str, positions: Mapping[int, int]) -> dict[int, list[RawBatch]]:
    """Per partition, the batches of one fetch at its position, up to the first that cannot be
    delimited (a broken header)."""
    client = KafkaNetClient(bootstrap_servers=bootstrap, client_id="warehouse-loader-raw-batches")
    try:
        leaders = _leaders(client, topic)
        return {
            partition: _batches(
                partition, offset, _fetch(client, leaders[partition], topic, partition, offset)
            )
            for partition, offset in sorted(positions.items())
        }
    finally:
        client.close()


def _leaders(client: KafkaNetClient, topic: str) -> dict[int, int]:
    client.check_version(timeout_ms=TIMEOUT_MS)  # connects to the cluster first
    request = MetadataRequest(topics=[MetadataRequest.MetadataRequestTopic(name=topic)], max_version=8)
    response = client.send_and_receive(client.least_loaded_node(), request, timeout_ms=TIMEOUT_MS)
    return {p.partition_index: p.leader_id for t in response.topics if t.name == topic for p in t.partitions}


def _fetch(client: KafkaNetClient, leader: int, topic: str, partition: int, offset: int) -> bytes:
    request = FetchRequest(
        replica_id=-1,
        max_wait_ms=100,
        min_bytes=1,  # Tansu answers min_bytes=0 with no partition at all
        max_bytes=FETCH_BYTES,
        isolation_level=READ_COMMITTED,
        session_id=0,
        session_epoch=-1,  # a full fetch, outside any fetch session
        topics=[
            _FetchTopic(
                topic=topic,
                partitions=[
                    _FetchTopic.FetchPartition(
                        partition=partition, fetch_offset=offset, partition_max_bytes=FETCH_BYTES
                    )
                ],
            )
        ],
        forgotten_topics_data=[],
        rack_id="",
        max_version=FETCH_VERSION,
    )
    response = client.send_and_receive(leader, request, timeout_ms=TIMEOUT_MS)
    return b"".join(
        bytes(p.records or b"")
        for t in response.responses
        if t.topic == topic
        for p in t.partitions
        if p.partition_index == partition and p.error_code == 0
    )


def _batches(partition: int, offset: int, data: bytes) -> list[RawBatch]:
    records = MemoryRecords(data)
    batches = []
    position = 0
    while True:
        try:
            batch = records.next_batch()
        except CorruptRecordError:
            return batches
        if batch is None:
            return batches
        raw = data[position : position + batch.size_in_bytes]
        position += batch.size_in_bytes
        if isinstance(batch, DefaultRecordBatch) and batch.next_offset > offset:
            batches.append(
                RawBatch(
                    partition,
                    batch.base_offset,
                    batch.next_offset,
                    batch.compression_type,
                    batch.first_timestamp,
                    raw,
                    _decode_error(batch),
                )
            )


def _decode_error(batch: DefaultRecordBatch) -> str | None:
    """What the consumer does with a batch, with its failure kept as text: any exception, since
    each codec library raises its own."""
    try:
        if not batch.validate_crc():
            return "CRC check failed"
        for _record in batch:
            pass
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None
