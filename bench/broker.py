"""The embedded broker (Tansu, memory engine) as its topic grows: where the loader's time goes.

Produces generated messages in steps of --step up to --max (4 partitions, like `warehouse up`);
after each step, times a bare kafka-python read (the loader's consumer settings) of the newest
--read messages (what a loader that keeps up fetches: its rate, messages per fetch request and
mean fetch latency) and of the oldest ones, the latency of one poll for the last message of each
partition, and reports the broker's RSS and its CPU share over the step. A read whose rate falls as
the topic grows is the broker's cost, not the loader's or PostgreSQL's.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from contextlib import closing
from pathlib import Path

import psutil
from kafka import KafkaConsumer, TopicPartition

from loader import broker
from loader.generator import EventMix, generate
from loader.sources.kafka import BATCH_SIZE, consumer_config

TOPIC = "notifications"
PARTITIONS = 4
READ_LIMIT_S = 60.0


def consumer(bootstrap: str, **overrides: object) -> KafkaConsumer:
    """The loader's consumer settings, assigned (no group: nothing here commits)."""
    config = consumer_config(
        bootstrap,
        "bench-broker",
        session_timeout_ms=10_000,
        max_poll_interval_ms=30_000,
        batch_size=BATCH_SIZE,
    )
    config.update(group_id=None, auto_offset_reset="earliest", **overrides)
    result = KafkaConsumer(**config)
    result.assign([TopicPartition(TOPIC, partition) for partition in range(PARTITIONS)])
    return result


def ends(bootstrap: str) -> dict[TopicPartition, int]:
    """Each partition's end, as a fetch reports it (Tansu's ListOffsets under-reports it)."""
    with closing(consumer(bootstrap, max_partition_fetch_bytes=1 << 10)) as reader:
        result: dict[TopicPartition, int] = {}
        while len(result) < PARTITIONS:
            reader.poll(timeout_ms=500, max_records=1)
            for tp in reader.assignment():
                highwater = reader.highwater(tp)
                if highwater is not None:
                    result[tp] = highwater
        return result


def read_rate(bootstrap: str, starts: dict[TopicPartition, int], count: int) -> tuple[float, float, float]:
    """(messages/s, messages per fetch request, mean fetch latency in s) reading `count` messages
    from `starts` on, or what READ_LIMIT_S seconds bring."""
    with closing(consumer(bootstrap)) as reader:
        for tp, offset in starts.items():
            reader.seek(tp, offset)
        received = 0
        started = time.perf_counter()
        while received < count and time.perf_counter() - started < READ_LIMIT_S:
            received += sum(len(records) for records in reader.poll(timeout_ms=500).values())
        rate = received / (time.perf_counter() - started)
        metrics = reader.metrics()["consumer-fetch-manager-metrics"]
        return rate, metrics["records-per-request-avg"], metrics["fetch-latency-avg"] / 1000


def end_fetch_seconds(bootstrap: str, end: dict[TopicPartition, int]) -> float:
    """Median seconds of one poll returning the last message of every partition (a loader that
    keeps up: each fetch is small and at the end); infinite when READ_LIMIT_S are not enough."""
    # (fetch_max_wait_ms=0 makes Tansu answer every fetch empty)
    with closing(consumer(bootstrap, fetch_min_bytes=1)) as reader:
        timings = []
        deadline = time.perf_counter() + READ_LIMIT_S
        for _ in range(3):
            for tp, offset in end.items():
                reader.seek(tp, offset - 1)
            started = time.perf_counter()
            received = 0
            while received < len(end):
                if time.perf_counter() > deadline:
                    return math.inf
                received += sum(len(records) for records in reader.poll(timeout_ms=500).values())
            timings.append(time.perf_counter() - started)
        return sorted(timings)[len(timings) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max", type=int, default=10_000_000, help="messages in the end (default 10M)")
    parser.add_argument("--step", type=int, default=1_000_000, help="messages per step (default 1M)")
    parser.add_argument("--read", type=int, default=100_000, help="messages per timed read (default 100k)")
    parser.add_argument(
        "--batch",
        type=int,
        default=20,
        help="messages per producer batch (default 20: `warehouse generate --rate 3500` sends ~20)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warehouse-bench-broker-") as home:
        bootstrap = broker.start(Path(home))
        pid = broker.running_pid(Path(home))
        assert pid is not None
        process = psutil.Process(pid)
        try:
            broker.ensure_topic(bootstrap, TOPIC, PARTITIONS)
            print(
                f"{'messages':>11} {'produce/s':>10} {'newest/s':>10} {'per fetch':>9} {'latency':>8}"
                f" {'oldest/s':>10} {'end fetch':>10} {'broker RSS':>11} {'broker CPU':>11}",
                flush=True,
            )
            total, seed = 0, 0
            cpu_before = sum(process.cpu_times()[:2])
            wall_before = time.perf_counter()
            while total < args.max:
                seed += 1
                report = generate(
                    bootstrap, TOPIC, EventMix(seed=seed), count=args.step, batch_messages=args.batch
                )
                total += report.total
                end = ends(bootstrap)
                share = args.read // PARTITIONS
                newest, per_fetch, latency = read_rate(
                    bootstrap, {tp: max(0, offset - share) for tp, offset in end.items()}, args.read
                )
                oldest, _, _ = read_rate(bootstrap, dict.fromkeys(end, 0), args.read)
                fetch = end_fetch_seconds(bootstrap, end)
                cpu = sum(process.cpu_times()[:2])
                wall = time.perf_counter()
                print(
                    f"{total:>11,} {report.total / report.seconds:>10,.0f} {newest:>10,.0f}"
                    f" {per_fetch:>9,.0f} {latency * 1000:>5,.0f} ms {oldest:>10,.0f}"
                    f" {fetch * 1000:>7,.0f} ms {process.memory_info().rss / 2**20:>8,.0f} MB"
                    f" {(cpu - cpu_before) / (wall - wall_before):>10.0%}",
                    flush=True,
                )
                cpu_before, wall_before = cpu, wall
        finally:
            broker.stop(Path(home), purge=True)


if __name__ == "__main__":
    main()
