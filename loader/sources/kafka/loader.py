"""The loader: a consumer-group member that polls, validates and encodes batches and hands them
to the writer threads, one partition always to the same writer so its batches commit in order.

On every assignment (and after a fenced batch) it seeks to the offsets stored in PostgreSQL;
offsets are committed to Kafka as well, after PostgreSQL, only so that standard lag tools work.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from functools import partial

import psycopg
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CorruptRecordError, KafkaError, OffsetOutOfRangeError, UnsupportedCodecError
from kafka.structs import OffsetAndMetadata

from loader import broker, db
from loader.settings import Settings
from loader.sources.kafka import fence, undecodable
from loader.sources.kafka.encoding import Batch, CopyText, headers_error
from loader.sources.kafka.fence import Fenced, LoaderError
from loader.sources.kafka.writers import Writer, land_batch
from loader.sources.payloads import payload_error

# the package's name, as before the split into modules: log filters and alerts match it
log = logging.getLogger("loader.sources.kafka")

KAFKA_COMMIT_INTERVAL_S = 1.0
REJECTED_LOGGED_PER_BATCH = 5
POLL_TIMEOUT_MS = 500
# Messages per poll, so per batch. Measured here: 8-10k keep the fetches, the main thread and the
# writers overlapping best (20k lands ~25% fewer messages/s).
BATCH_SIZE = 10_000
GIL_SWITCH_INTERVAL_S = 0.0005


def consumer_config(
    bootstrap: str,
    group_id: str,
    *,
    session_timeout_ms: int,
    max_poll_interval_ms: int,
    batch_size: int,
) -> dict[str, object]:
    """KafkaConsumer settings for bulk loading (also what bench/kafka.py measures bare)."""
    return {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "client_id": "warehouse-loader",
        "enable_auto_commit": False,
        # Positions come from raw.kafka_offsets; a position Kafka no longer has must be an
        # error we handle, never a silent jump.
        "auto_offset_reset": "none",
        # Records of aborted transactions are not landed, nor those of open ones yet.
        "isolation_level": "read_committed",
        "allow_auto_create_topics": False,
        "session_timeout_ms": session_timeout_ms,
        "heartbeat_interval_ms": max(500, session_timeout_ms // 4),
        "max_poll_interval_ms": max_poll_interval_ms,
        "max_poll_records": batch_size,
        "fetch_max_bytes": 64 << 20,
        "max_partition_fetch_bytes": 8 << 20,
        "fetch_min_bytes": 256 << 10,
        "fetch_max_wait_ms": 100,
        "receive_buffer_bytes": 4 << 20,
    }


@dataclass
class LoaderStats:
    """What a loader has landed so far, updated as batches commit."""

    landed: int = 0
    rejected: int = 0
    batches: int = 0
    fenced_batches: int = 0
    first_received_at: float | None = None
    last_landed_at: float | None = None
    # partition -> next offset committed to PostgreSQL / last known end of the partition, for
    # the partitions this loader owns or owned last
    committed: dict[int, int] = field(default_factory=dict)
    highwater: dict[int, int] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return self.landed + self.rejected

    @property
    def rate(self) -> float:
        """Messages per second from the first message received to the last batch committed
        (group joins and idle time after the last batch excluded)."""
        if self.first_received_at is None or self.last_landed_at is None:
            return 0.0
        return self.messages / max(self.last_landed_at - self.first_received_at, 1e-3)

    def lag(self) -> dict[int, int]:
        return {
            partition: max(0, self.highwater[partition] - offset)
            for partition, offset in sorted(self.committed.items())
            if partition in self.highwater
        }

    def describe(self) -> str:
        lag = ", ".join(f"p{partition}={value:,}" for partition, value in self.lag().items()) or "unknown"
        return (
            f"{self.landed:,} rows landed, {self.rejected:,} rejected, {self.rate:,.0f} msg/s"
            f" ({self.batches:,} batches, {self.fenced_batches} fenced); lag {lag}"
        )


class KafkaLoader:
    """A consumer-group member landing one topic exactly once; drive it with run().

    run() returns when stop_event is set, after until_idle seconds without messages, or once
    max_messages have landed, and may be called again (a service can interleave other work, or
    run it in a thread of its own and set the event to stop). Create, run and close a loader in
    one thread (the Kafka consumer is not thread-safe); stats can be read from any thread.
    close() (or `with closing(loader)`) leaves the group so the partitions move on at once.
    """

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        bootstrap: str,
        topic: str,
        group_id: str,
        *,
        session_timeout_ms: int = 10_000,
        max_poll_interval_ms: int = 30_000,
        batch_size: int = BATCH_SIZE,
        writers: int = 2,
        log_interval_s: float = 10.0,
    ) -> None:
        self.topic = topic
        self._bootstrap = bootstrap
        self.stats = LoaderStats()
        self._batch_size = batch_size
        self._log_interval_s = log_interval_s
        self._lock = threading.Lock()  # guards stats
        # partition -> offset the next batch starts at; ahead of stats.committed by the batch in
        # flight. Changed by the main thread and by the rebalance listener (while poll() waits).
        self._position: dict[int, int] = {}
        # writer index -> its batch being landed and that batch's size (one at a time per writer)
        self._in_flight: dict[int, tuple[Future[bool], int]] = {}
        self._fenced = False
        # partition -> high watermark when we sought it, until a later fetch tells its end
        self._unchecked: dict[int, int | None] = {}
        self._assigned_at: float | None = None
        self._last_kafka_commit = 0.0
        self._copy_text = CopyText()
        self._consumer = KafkaConsumer(
            **consumer_config(
                bootstrap,
                group_id,
                session_timeout_ms=session_timeout_ms,
                max_poll_interval_ms=max_poll_interval_ms,
                batch_size=batch_size,
            )
        )
        # Writer threads with a connection each land the batches while the main thread polls; a
        # partition always goes to the same writer, so its batches commit in order. Several let
        # PostgreSQL parse jsonb on more than one core.
        self._writers: list[Writer] = []
        # The writers mostly wait on PostgreSQL, then need the GIL back for a moment while the main
        # thread decodes records: hand it over within 0.5 ms rather than Python's default 5 ms
        # (measured: ~20% more messages/s end to end). Process-wide, and harmless elsewhere.
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        try:
            self._writers += [Writer(connect, f"kafka-writer-{i}") for i in range(writers)]
            self._initialise_offsets(group_id)
            self._consumer.subscribe([topic], listener=_Rebalance(self))
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_settings(
        cls, settings: Settings, *, topic: str | None = None, group_id: str | None = None, **options: float
    ) -> KafkaLoader:
        """A loader for the configured warehouse and Kafka (KAFKA_* settings unless given)."""
        kafka = settings.kafka
        return cls(
            partial(db.connect, settings, autocommit=True),
            broker.resolve_bootstrap(settings),
            topic or kafka.topic,
            group_id or kafka.group_id,
            session_timeout_ms=kafka.session_timeout_ms,
            max_poll_interval_ms=kafka.max_poll_interval_ms,
            **options,
        )

    # -- offsets in PostgreSQL (always on the writer thread) ----------------------------------------

    def _stored_offsets(self, partitions: Iterable[int], first: Mapping[int, int]) -> dict[int, int]:
        """Stored next offsets of `partitions`, inserting `first` for partitions not stored yet."""
        read = partial(fence.stored_offsets, topic=self.topic, wanted=set(partitions), first=first)
        self._drain()  # so that what we read includes every batch handed over
        return self._writers[0].submit(read).result()

    def _initialise_offsets(self, group_id: str) -> None:
        """First load of a partition: start at the group's Kafka commit if any, else the beginning."""
        partitions = self._consumer.partitions_for_topic(self.topic)
        if not partitions:
            raise LoaderError(f"topic {self.topic} does not exist (`warehouse up` creates it)")
        stored = self._stored_offsets(partitions, {})
        new = [TopicPartition(self.topic, p) for p in sorted(partitions) if p not in stored]
        if not new:
            return
        starts = self._consumer.beginning_offsets(new)
        for tp in new:
            committed = self._consumer.committed(tp)
            if committed is not None and committed > starts[tp]:
                starts[tp] = committed
        first = {tp.partition: offset for tp, offset in starts.items()}
        log.info(
            "first load of %s partitions %s (group %s): starting at %s",
            self.topic,
            sorted(first),
            group_id,
            first,
        )
        self._stored_offsets(partitions, first)

    def _write(self, conn: psycopg.Connection, batch: Batch) -> bool:
        try:
            land_batch(conn, self.topic, batch)
        except Fenced as fenced:
            log.warning(
                "%s: batch of %d messages rolled back, %s (another loader took the partition over, or"
                " an operator moved the offset); seeking to the stored offsets",
                self.topic,
                batch.size,
                fenced,
            )
            with self._lock:
                self.stats.fenced_batches += 1
            return False
        for row in batch.rejected[:REJECTED_LOGGED_PER_BATCH]:
            log.warning("rejected %s[%s]@%s: %s", *row[:3], row[-1])
        if len(batch.rejected) > REJECTED_LOGGED_PER_BATCH:
            log.warning(
                "... and %d more rejected in this batch", len(batch.rejected) - REJECTED_LOGGED_PER_BATCH
            )
        now = time.monotonic()
        with self._lock:
            stats = self.stats
            stats.landed += len(batch.rows)
            stats.rejected += len(batch.rejected)
            stats.batches += 1
            stats.last_landed_at = now
            for partition, (_start, end) in batch.ranges.items():
                stats.committed[partition] = end
        return True

    def _wait_for(self, writers: Iterable[int]) -> None:
        """Wait for these writers' batches; if one was fenced, positions must be re-read."""
        landing = [self._in_flight.pop(index) for index in writers if index in self._in_flight]
        wait([future for future, _size in landing])
        if not all([future.result() for future, _size in landing]):
            self._fenced = True

    def _drain(self) -> None:
        self._wait_for(list(self._in_flight))

    @property
    def _in_flight_size(self) -> int:
        return sum(size for _future, size in self._in_flight.values())

    def _submit(self, batches: Sequence[Batch]) -> bool:
        # Only the writers this poll needs: the others go on landing (polls often hold a single
        # partition), and each writer has at most one batch in flight, so memory stays bounded.
        targets = [index for index, batch in enumerate(batches) if batch.ranges]
        self._wait_for(targets)
        if self._fenced:
            # These batches were encoded from positions the fenced one invalidated.
            self._resync()
            return False
        for index in targets:
            future = self._writers[index].submit(partial(self._write, batch=batches[index]))
            self._in_flight[index] = (future, batches[index].size)
        return True

    def _seek_to_stored(self, partitions: Iterable[int], first: Mapping[int, int]) -> dict[int, int]:
        stored = self._stored_offsets(partitions, first)
        self._position.update(stored)
        with self._lock:
            self.stats.committed.update(stored)
        for partition, offset in stored.items():
            tp = TopicPartition(self.topic, partition)
            self._consumer.seek(tp, offset)
            self._unchecked[partition] = self._consumer.highwater(tp)
        return stored

    def _resync(self) -> None:
        """Forget the positions of batches that did not commit: seek to the stored offsets."""
        self._drain()
        self._fenced = False
        self._seek_to_stored(set(self._position), {})  # the partitions we own

    # -- rebalances: kafka-python calls these on its IO thread while poll() waits ---------------

    def _on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._drain()
        self._fenced = False
        partitions = {tp.partition for tp in assigned if tp.topic == self.topic}
        # A partition added to the topic while we run starts at its first offset.
        stored = self._seek_to_stored(partitions, dict.fromkeys(partitions, 0))
        self._assigned_at = time.monotonic()
        log.info("assigned %s partitions %s at stored offsets %s", self.topic, sorted(partitions), stored)

    def _on_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._drain()
        partitions = sorted(tp.partition for tp in revoked if tp.topic == self.topic)
        for partition in partitions:
            self._position.pop(partition, None)
        self._assigned_at = None
        if partitions:
            log.info("revoked %s partitions %s", self.topic, partitions)

    # -- the loop -----------------------------------------------------------------------------------

    def run(
        self,
        stop_event: threading.Event,
        *,
        until_idle: float | None = None,
        max_messages: int | None = None,
        progress: Callable[[LoaderStats], None] | None = None,
    ) -> LoaderStats:
        """Land messages until stop_event is set, until_idle seconds pass without a message (once
        the group is joined), or max_messages have landed in this call."""
        baseline = self.stats.messages
        last_message_at = last_log_at = time.monotonic()
        logged_messages = baseline
        while not stop_event.is_set():
            remaining = None
            if max_messages is not None:
                remaining = max_messages - (self.stats.messages - baseline) - self._in_flight_size
                if remaining <= 0:
                    self._drain()
                    if self._fenced:
                        self._resync()
                    if self.stats.messages - baseline >= max_messages:
                        break
                    continue
            batches = self._poll(remaining)
            now = time.monotonic()
            if batches and self._submit(batches):
                last_message_at = now
            self._commit_to_kafka(now)
            if progress is not None:
                progress(self.stats)
            if now - last_log_at >= self._log_interval_s:
                recent_rate = (self.stats.messages - logged_messages) / (now - last_log_at)
                log.info("%s: %s msg/s now; %s", self.topic, f"{recent_rate:,.0f}", self.stats.describe())
                last_log_at, logged_messages = now, self.stats.messages
            idle_since = None if self._assigned_at is None else max(last_message_at, self._assigned_at)
            if until_idle is not None and idle_since is not None and now - idle_since >= until_idle:
                break
        self._drain()
        if self._fenced:
            self._resync()
        self._commit_to_kafka(time.monotonic(), final=True)
        if progress is not None:
            progress(self.stats)
        return self.stats

    def _poll(self, remaining: int | None) -> list[Batch]:
        """One batch per writer (some maybe empty), or none."""
        try:
            polled = self._consumer.poll(timeout_ms=POLL_TIMEOUT_MS, max_records=self._batch_size)
        except OffsetOutOfRangeError as error:
            self._recover_out_of_range(error.args[0] if error.args else {})
            return []
        except (CorruptRecordError, UnsupportedCodecError) as error:
            return self._dead_letter_undecodable(error)
        except (KafkaError, LoaderError, psycopg.Error):  # the broker, or the rebalance listener's database
            raise
        except Exception as error:  # what a codec library raises on bytes it cannot decode
            return self._dead_letter_undecodable(error)
        if self._unchecked:
            self._check_positions_exist()
        if self._fenced:
            self._resync()
            return []
        with self._lock:
            for partition in self._position:
                highwater = self._consumer.highwater(TopicPartition(self.topic, partition))
                if highwater is not None:
                    self.stats.highwater[partition] = highwater
        if polled and self.stats.first_received_at is None:
            self.stats.first_received_at = time.monotonic()
        batches = self._encode(polled, remaining)
        return batches if any(batch.ranges for batch in batches) else []

    def _encode(
        self, polled: Mapping[TopicPartition, Sequence[ConsumerRecord]], remaining: int | None
    ) -> list[Batch]:
        """A batch's range ends at the consumer's position, not after its last record: offsets
        that hold no record (transaction markers, aborted or compacted records) are passed too,
        even in a poll that returns no record of the partition."""
        batches = [Batch() for _ in self._writers]
        encoded = 0
        topic = self.topic
        for partition, start in sorted(self._position.items()):
            tp = TopicPartition(topic, partition)
            fetched = polled.get(tp, ())
            records = (
                [r for r in fetched if r.offset >= start]
                if fetched and fetched[0].offset < start
                else fetched
            )
            if remaining is not None and len(records) > remaining - encoded:
                records = records[: max(0, remaining - encoded)]
                # max_messages cut this partition short: the rest is fetched again next time
                end = records[-1].offset + 1 if records else start
                self._consumer.seek(tp, end)
            else:
                end = max(start, self._consumer.position(tp))
            if end == start:
                continue
            if records and records[0].offset > start:
                log.debug(
                    "%s[%d]: offsets %d..%d hold no record", topic, partition, start, records[0].offset - 1
                )
            batch = batches[partition % len(batches)]
            accepted = []
            for record in records:
                error = payload_error(record.value) or headers_error(record.headers)
                if error is None:
                    accepted.append(record)
                else:
                    batch.reject(record, error)
            batch.rows += self._copy_text.rows(topic, partition, accepted)
            batch.records += accepted
            batch.ranges[partition] = (start, end)
            self._position[partition] = end
            encoded += len(records)
        return batches

    def _dead_letter_undecodable(self, error: Exception) -> list[Batch]:
        """The batch the consumer failed on, as dead letters: one per offset, the batch's bytes in
        the first; then past it. LoaderError if no batch where we stand fails to decode."""
        found = undecodable.find(self._bootstrap, self.topic, self._position)
        start = None if found is None else self._position.get(found.partition)
        if found is None or start is None:
            raise LoaderError(
                f"{self.topic}: the consumer fails at offsets {dict(sorted(self._position.items()))}"
                f" ({type(error).__name__}: {error}) on no record batch it could skip"
            ) from error
        log.error("%s[%d]: %s; to the dead letters", self.topic, found.partition, found.reason())
        batch = Batch(ranges={found.partition: (start, found.end)})
        first = max(start, found.start)
        for offset in range(first, found.end):
            batch.add_rejected(
                found.partition,
                offset,
                topic=self.topic,
                timestamp_ms=found.timestamp_ms,
                key=None,
                headers=None,
                raw_value=found.data if offset == first else None,
                error=found.reason() if offset == first else f"{found.reason()} (its bytes: offset {first})",
            )
        self._position[found.partition] = found.end
        self._consumer.seek(TopicPartition(self.topic, found.partition), found.end)
        batches = [Batch() for _ in self._writers]
        batches[found.partition % len(batches)] = batch
        return batches

    def _check_positions_exist(self) -> None:
        """A stored offset past the end of its partition means the topic was recreated (the
        embedded broker forgets its messages when stopped): refuse rather than skip messages.

        The end is the high watermark of a fetch made after the seek (Apache Kafka reports such a
        position as out of range; Tansu answers an empty fetch, and its ListOffsets under-reports
        the end, so end_offsets() cannot be used)."""
        beyond = {}
        for partition, highwater_at_seek in list(self._unchecked.items()):
            position = self._position.get(partition)
            if position is None:  # revoked
                del self._unchecked[partition]
                continue
            highwater = self._consumer.highwater(TopicPartition(self.topic, partition))
            if highwater is not None and highwater != highwater_at_seek:
                del self._unchecked[partition]
                if position > highwater:
                    beyond[partition] = (position, highwater)
        if beyond:
            self._refuse_recreated_topic(beyond)

    def _refuse_recreated_topic(self, beyond: Mapping[int, tuple[int, int | None]]) -> None:
        details = ", ".join(
            f"{self.topic}[{partition}] stored {stored:,} > end {'unknown' if end is None else f'{end:,}'}"
            for partition, (stored, end) in sorted(beyond.items())
        )
        raise LoaderError(
            f"raw.kafka_offsets points past the end of the topic ({details}): the topic was"
            " recreated (the embedded broker keeps messages in memory only). Start from an empty"
            " warehouse (`warehouse down --purge`), or move this topic's landed rows aside and"
            " delete its raw.kafka_offsets rows (see README, replaying from an offset)."
        )

    def _recover_out_of_range(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Apache Kafka no longer (or not yet) has the position: deleted by retention, or the
        topic was recreated."""
        beginnings = self._consumer.beginning_offsets(list(offsets))
        beyond = {tp.partition: (offset, None) for tp, offset in offsets.items() if offset >= beginnings[tp]}
        if beyond:
            self._refuse_recreated_topic(beyond)
        for tp, offset in offsets.items():
            # The next batch's compare-and-set still starts at the stored offset, so the lost
            # range counts as passed: said loudly here.
            log.error(
                "%s[%d]: offsets %d..%d were deleted (retention) before they were landed",
                tp.topic,
                tp.partition,
                offset,
                beginnings[tp] - 1,
            )
            self._consumer.seek(tp, beginnings[tp])

    def _commit_to_kafka(self, now: float, *, final: bool = False) -> None:
        """Mirror the PostgreSQL offsets to Kafka for lag tools; never read back as the truth."""
        if not final and now - self._last_kafka_commit < KAFKA_COMMIT_INTERVAL_S:
            return
        self._last_kafka_commit = now
        with self._lock:
            committed = dict(self.stats.committed)
        offsets = {
            TopicPartition(self.topic, partition): OffsetAndMetadata(offset, "", -1)
            for partition, offset in committed.items()
            if partition in self._position  # still ours
        }
        if not offsets:
            return
        try:
            if final:
                self._consumer.commit(offsets)
            else:
                self._consumer.commit_async(offsets)
        except KafkaError as error:  # a rebalance in progress: the next commit catches up
            log.debug("Kafka offset commit skipped: %s", error)

    def close(self) -> None:
        try:
            self._drain()
        finally:
            try:
                # even when a batch failed (the database gone): leave the group now
                self._consumer.close(autocommit=False)
            finally:
                for writer in self._writers:
                    writer.close()


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, loader: KafkaLoader) -> None:
        self._loader = loader

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._loader._on_revoked(revoked)

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._loader._on_assigned(assigned)

    def on_partitions_lost(self, lost: Iterable[TopicPartition]) -> None:
        # Another member may own them already: the offset fence rejects whatever we still write.
        self._loader._on_revoked(lost)
