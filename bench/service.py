"""The service: `warehouse run` while `warehouse generate --rate 5000` produces for 3 minutes.

Panel freshness: once a second a marker event of a dedicated customer is produced (event time now)
and the panel of that customer is polled until it counts it; freshness is the time from producing
to the panel counting. Target: p99 <= 10 s. Also the service's CPU share and RSS, its minutely dbt
runs, and what it landed. `--duration S` for a shorter run.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import time
from datetime import UTC, datetime

import psutil
import psycopg
from confluent_kafka import Producer

from bench.common import WAREHOUSE_BIN, scratch_warehouse
from loader import PROJECT_DIR, broker, db
from loader.generator import NotificationEvent
from loader.settings import Settings

RATE = 5_000
MARKER = (9_999_999, "Bench Marker")
POLL_S = 0.05
STARTUP_TIMEOUT_S = 300.0


def marker_event(number: int, customer: tuple[int, str] = MARKER) -> NotificationEvent:
    return NotificationEvent(
        customer_id=customer[0],
        message_id=f"MARK{number:06d}",
        customer_name=customer[1],
        channel="Whatsapp",
        payload="freshness marker",
        event_datetime=datetime.now(UTC),
    )


def panel_count(conn: psycopg.Connection, customer_id: int = MARKER[0]) -> int:
    """A customer's WhatsApp notifications today, as `warehouse report panel` reads them."""
    try:
        row = conn.execute(
            "select coalesce(sum(whatsapp_notifications), 0) from marts.rpt_notification_panel"
            " where customer_id = %s and panel_date = (now() at time zone 'UTC')::date",
            (customer_id,),
        ).fetchone()
    except psycopg.errors.UndefinedTable:  # before the service's first run
        return 0
    return int(row[0]) if row else 0


def wait_for_count(
    conn: psycopg.Connection, count: int, timeout_s: float, customer_id: int = MARKER[0]
) -> float:
    """Seconds until the customer's panel counts `count`."""
    started = time.perf_counter()
    while panel_count(conn, customer_id) < count:
        if time.perf_counter() - started > timeout_s:
            raise SystemExit(f"the panel did not count marker {count} within {timeout_s:.0f} s")
        time.sleep(POLL_S)
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of load (default 180)")
    args = parser.parse_args()
    with scratch_warehouse() as home:
        settings = Settings.from_env()
        producer = Producer({"bootstrap.servers": broker.resolve_bootstrap(settings), "linger.ms": 0})
        log_path = home / "service.log"
        with log_path.open("ab") as log:
            service = subprocess.Popen([str(WAREHOUSE_BIN), "run"], cwd=PROJECT_DIR, stdout=log, stderr=log)
        process = psutil.Process(service.pid)
        conn = db.connect(settings, autocommit=True)
        try:
            # The panel lists a customer from the minutely run after its first event on.
            marker = marker_event(1).message()
            producer.produce(settings.kafka.topic, marker.value, marker.key)
            producer.flush()
            started = time.perf_counter()
            wait_for_count(conn, 1, STARTUP_TIMEOUT_S)
            print(f"service up, marker customer on the panel after {time.perf_counter() - started:.1f} s")

            generator = subprocess.Popen(
                [str(WAREHOUSE_BIN), "generate", "--rate", str(RATE), "--duration", str(args.duration)],
                cwd=PROJECT_DIR,
                stdout=subprocess.PIPE,
                text=True,
            )
            cpu_before, wall_before = process.cpu_times(), time.perf_counter()
            freshness: list[float] = []
            peak_rss = process.memory_info().rss
            number = 1
            while generator.poll() is None:
                number += 1
                marker = marker_event(number).message()
                produced_at = time.perf_counter()
                producer.produce(settings.kafka.topic, marker.value, marker.key)
                producer.flush()
                wait_for_count(conn, number, 60)
                freshness.append(time.perf_counter() - produced_at)
                peak_rss = max(peak_rss, process.memory_info().rss)
                time.sleep(max(0.0, 1.0 - (time.perf_counter() - produced_at)))
            cpu_after, wall = process.cpu_times(), time.perf_counter() - wall_before
            assert generator.stdout is not None
            print(generator.stdout.read().strip())
        finally:
            service.send_signal(signal.SIGTERM)
            exit_code = service.wait(120)
            del producer  # before the broker stops: librdkafka would keep reconnecting
        with conn:
            landed = conn.execute("select sum(next_offset) from raw.kafka_offsets").fetchone()
            runs = conn.execute(
                "select extract(epoch from finished_at - started_at)::float8 from ops.dbt_runs"
                " where kind = 'minutely' and is_success order by started_at"
            ).fetchall()
        cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
        minutely = [seconds for (seconds,) in runs]
        p50, p99 = statistics.median(freshness), percentile(freshness, 0.99)
        print(
            f"{'panel freshness (produce -> panel counts it)':<48} p50 {p50:.2f} s, p99 {p99:.2f} s,"
            f" max {max(freshness):.2f} s over {len(freshness)} markers (target p99 <= 10 s:"
            f" {'ok' if p99 <= 10 else 'MISSED'})"
        )
        print(
            f"{'service CPU':<48} {cpu / wall:.0%} of one core"
            f" ({cpu / wall / (os.cpu_count() or 1):.0%} of the machine's {os.cpu_count()} cores)"
        )
        print(f"{'service peak RSS':<48} {peak_rss / 2**20:,.0f} MB")
        if minutely:
            print(
                f"{'minutely dbt runs':<48} {len(minutely)}, median {statistics.median(minutely):.1f} s,"
                f" max {max(minutely):.1f} s"
            )
        print(f"{'messages landed':<48} {landed[0] if landed else 0:,}")
        print(f"{'service exit code after SIGTERM':<48} {exit_code}")
        print(f"{'load average (1 min) at the end':<48} {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
