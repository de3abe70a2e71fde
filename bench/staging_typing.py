"""What typing notification events costs: the staging view over 300,000 raw events (the minutely
run's increment in bench/notifications.py), counted five times; prints the median and range.

    python -m bench.staging_typing
"""

from __future__ import annotations

import statistics
import time

import psycopg

from bench.common import scratch_warehouse, warehouse
from loader import db
from loader.settings import Settings

EVENTS = 300_000
RUNS = 5


def main() -> None:
    with scratch_warehouse():
        with db.connect(Settings.from_env(), autocommit=True) as conn:
            conn.execute(
                "insert into raw.notification_events (kafka_topic, kafka_partition, kafka_offset, payload)"
                " select 'notifications', 0, n, jsonb_build_object("
                "   'customer_id', n %% 10000, 'message_id', md5(n::text), 'customer_name', 'Acme',"
                "   'channel', 'Whatsapp', 'payload', 'Olá XXXXX, seja muito bem-vindo!',"
                "   'event_datetime', to_char(timestamp '2020-02-03' + n * interval '1 ms',"
                "     'YYYY-MM-DD\"T\"HH24:MI:SS.MS') || '+00:00')"
                " from generate_series(1, %s) as n",
                (EVENTS,),
            )
            conn.execute("vacuum analyze raw.notification_events")
            warehouse("build", "--select", "stg_notifications__events", "--exclude", "test_type:unit")
            seconds = [_typed_in(conn) for _ in range(RUNS + 1)][1:]  # the first warms the cache
        print(
            f"staging typing of {EVENTS:,} events: median {statistics.median(seconds):.2f} s,"
            f" {min(seconds):.2f}-{max(seconds):.2f} s over {RUNS} runs"
        )


def _typed_in(conn: psycopg.Connection) -> float:
    started = time.perf_counter()
    valid = conn.execute(
        "select count(*) filter (where is_valid and customer_id is not null)"
        " from staging.stg_notifications__events"
    ).fetchone()
    assert valid == (EVENTS,)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
