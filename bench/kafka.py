"""Kafka: 1,000,000 generated messages on the embedded broker, consumed bare with kafka-python, then
landed by `warehouse load kafka` (Kafka -> committed raw rows).

Targets: loader >= 50,000 msg/s and >= 0.6 x the bare consume rate; loader peak RSS <= 300 MB.
Both rates run from the first message received to the last one consumed / committed, so the
consumer-group join (seconds on Tansu) counts in neither.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from contextlib import closing

import psycopg
from kafka import KafkaConsumer

from bench.common import WAREHOUSE_BIN, scratch_warehouse, timed
from loader import PROJECT_DIR, broker, embedded
from loader.generator import EventMix, generate
from loader.sources.kafka import consumer_config

COUNT = 1_000_000
TOPIC = "notifications"
BATCH_SIZE = 20_000  # the loader's default


def bare_consume_rate(bootstrap: str) -> float:
    """kafka-python alone, with the loader's consumer settings: messages/s."""
    config = consumer_config(
        bootstrap, "bench-bare", session_timeout_ms=10_000, max_poll_interval_ms=30_000, batch_size=BATCH_SIZE
    )
    consumer = KafkaConsumer(TOPIC, **{**config, "auto_offset_reset": "earliest"})
    with closing(consumer):
        received = 0
        first_at = None
        while received < COUNT:
            for records in consumer.poll(timeout_ms=500, max_records=BATCH_SIZE).values():
                first_at = first_at or time.perf_counter()
                received += len(records)
        return received / (time.perf_counter() - first_at)


def run_loader() -> tuple[float, float]:
    """`warehouse load kafka` in its own process: (its msg/s, its peak RSS in MB)."""
    process = subprocess.Popen(
        [str(WAREHOUSE_BIN), "load", "kafka", "--until-idle", "3"],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"warehouse load kafka exited {process.returncode}: {output}")
    rate = re.search(r"([\d,]+) msg/s", output)
    assert rate is not None, output
    return float(rate.group(1).replace(",", "")), usage.ru_maxrss / 1024


def main() -> None:
    with scratch_warehouse() as home:
        bootstrap = broker.bootstrap_servers(home)
        assert bootstrap is not None
        with timed("generate + produce", COUNT):
            generate(bootstrap, TOPIC, EventMix(seed=42), count=COUNT)
        bare = bare_consume_rate(bootstrap)
        print(f"{'bare kafka-python consume':<40} {bare:>21,.0f} msg/s", flush=True)
        loader, rss_mb = run_loader()
        print(f"{'warehouse load kafka (to committed rows)':<40} {loader:>21,.0f} msg/s", flush=True)
        server_dsn = embedded.dsn(home)
        assert server_dsn is not None
        with psycopg.connect(server_dsn) as conn:
            landed = conn.execute("select count(*) from raw.notification_events").fetchone()
        assert landed == (COUNT,), landed
        ratio = loader / bare
        verdicts = {
            "loader >= 50,000 msg/s": loader >= 50_000,
            "loader >= 0.6 x bare": ratio >= 0.6,
            "loader RSS <= 300 MB": rss_mb <= 300,
        }
        print(f"{'ratio loader / bare':<40} {ratio:>21.2f}")
        print(f"{'loader peak RSS':<40} {rss_mb:>18,.0f} MB")
        for target, met in verdicts.items():
            print(f"  target {target}: {'ok' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
