"""The offset fence: a batch whose start offset moved commits nothing, so a zombie loader cannot
write what another loader landed."""

from __future__ import annotations

import threading
from contextlib import closing
from dataclasses import replace

from loader import db
from loader.generator import EventMix, messages
from loader.sources.kafka import Batch, Fenced, KafkaLoader, land_batch
from tests.conftest import run_warehouse
from tests.loader.sources.kafka.helpers import (
    assert_each_offset_once,
    landed_count,
    send,
    stored_offsets,
)


def test_a_batch_whose_start_offset_moved_is_fenced(kafka, conn):
    topic = kafka.kafka.topic
    conn.execute(
        "insert into raw.kafka_offsets (kafka_topic, kafka_partition, next_offset) values (%s, 0, 7)",
        (topic,),
    )
    batch = Batch(ranges={0: (5, 6)}, rows=[f"{topic}\t0\t5\t\\N\t\\N\t{{}}\n".encode()])

    with db.connect(kafka, autocommit=True) as writer:
        try:
            land_batch(writer, topic, batch)
            raise AssertionError("a stale batch committed")
        except Fenced:
            pass

    assert stored_offsets(conn, topic) == {0: 7}
    assert conn.execute("select count(*) from raw.notification_events").fetchone() == (0,)


def test_a_zombie_loader_cannot_commit_what_another_loader_landed(kafka, conn):
    topic = kafka.kafka.topic
    ends = send(kafka, messages(5_000, EventMix(seed=3)))
    # Heartbeats go on while it does not poll: it keeps believing it owns the partitions.
    patient = replace(kafka, kafka=replace(kafka.kafka, max_poll_interval_ms=120_000))
    zombie = KafkaLoader.from_settings(patient)
    with closing(zombie):
        zombie.run(threading.Event(), max_messages=1_000)
        assert landed_count(conn, topic) == 1_000

        # Meanwhile another loader (here: of another group) lands everything.
        run_warehouse("load", "kafka", "--group", f"other-{kafka.kafka.group_id}", "--until-idle", "1")
        assert landed_count(conn, topic) == 5_000

        stats = zombie.run(threading.Event(), until_idle=1)

    assert stats.fenced_batches >= 1
    assert stats.messages == 1_000  # it wrote nothing after the takeover
    assert_each_offset_once(conn, topic, ends)
