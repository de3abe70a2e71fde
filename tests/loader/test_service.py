"""`warehouse run` as a process against the real embedded PostgreSQL and broker: the panel follows the
stream, a closed day is billed and re-billed after a late event, SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import psycopg
import pytest

from loader import db, embedded
from loader.generator import POISON, EventMix, Message, NotificationEvent, generate, produce
from loader.settings import Settings
from tests.conftest import fresh_topic, fresh_warehouse, run_warehouse, start_warehouse

_T = TypeVar("_T")
MIDNIGHT = datetime(2020, 2, 4, tzinfo=UTC)
CUSTOMERS = {7494212: "Acme", 1000001: "Globex", 1000002: "Initech"}
CHANNELS = ("Whatsapp", "WhatsApp", " WHATSAPP ", "SMS")


def wait_for(condition: Callable[[], _T], what: str, timeout_s: float = 60.0) -> _T:
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.5)


def stream(count: int, starts_at: datetime, step: timedelta, prefix: str) -> list[NotificationEvent]:
    """count events, `step` apart in event time, round-robin over customers and channel spellings."""
    customer_ids = sorted(CUSTOMERS)
    return [
        NotificationEvent(
            customer_id=customer_ids[i % len(customer_ids)],
            message_id=f"{prefix}{i:08d}",
            customer_name=CUSTOMERS[customer_ids[i % len(customer_ids)]],
            channel=CHANNELS[i % len(CHANNELS) if i % 7 else 3],
            payload="Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?",
            event_datetime=starts_at + i * step,
        )
        for i in range(count)
    ]


def whatsapp_counts(events: Sequence[NotificationEvent]) -> Counter[tuple[int, date]]:
    return Counter(
        (event.customer_id, event.event_datetime.astimezone(UTC).date())
        for event in events
        if event.channel.strip().lower() == "whatsapp"
    )


def panel(conn: psycopg.Connection) -> Counter[tuple[int, date]]:
    try:
        rows = conn.execute(
            "select customer_id, panel_date, whatsapp_notifications from marts.rpt_notification_panel"
        ).fetchall()
    except psycopg.errors.UndefinedTable:
        return Counter()
    return Counter({(customer_id, day): count for customer_id, day, count in rows if count})


def billing_runs(conn: psycopg.Connection, day: date) -> list[dict[int, int]]:
    """Per billing run of the day, oldest first: customer -> billed WhatsApp notifications."""
    try:
        rows = conn.execute(
            "select billed_at, customer_id, whatsapp_notifications from marts.rpt_notification_billing_runs"
            " where billing_date = %s order by billed_at",
            (day,),
        ).fetchall()
    except psycopg.errors.UndefinedTable:
        return []
    runs: dict[datetime, dict[int, int]] = {}
    for billed_at, customer_id, count in rows:
        runs.setdefault(billed_at, {})[customer_id] = count
    return list(runs.values())


def landed_offsets(conn: psycopg.Connection, topic: str) -> dict[int, tuple[int, int, int]]:
    """partition -> (stored next offset, rows in raw + rejected, highest offset + 1 there)."""
    rows = conn.execute(
        "select offsets.kafka_partition, offsets.next_offset, count(landed.kafka_offset),"
        " coalesce(max(landed.kafka_offset) + 1, 0)"
        " from raw.kafka_offsets as offsets"
        " left join ("
        "  select kafka_topic, kafka_partition, kafka_offset from raw.notification_events"
        "  union all"
        "  select kafka_topic, kafka_partition, kafka_offset from raw.notification_events_rejected"
        " ) as landed using (kafka_topic, kafka_partition)"
        " where offsets.kafka_topic = %s group by 1, 2",
        (topic,),
    ).fetchall()
    return {partition: (next_offset, count, end) for partition, next_offset, count, end in rows}


@pytest.fixture
def service_settings(kafka: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A minutely run every 2 s, billing 1 s after a day closes, a status line every 3 s."""
    monkeypatch.setenv("WAREHOUSE_MINUTELY_INTERVAL", "2")
    monkeypatch.setenv("WAREHOUSE_BILLING_GRACE", "1")
    monkeypatch.setenv("WAREHOUSE_STATUS_INTERVAL", "3")
    return Settings.from_env()


def test_service_follows_the_stream_bills_and_rebills_a_day_and_stops_cleanly(
    service_settings: Settings, conn: psycopg.Connection, tmp_path
):
    bootstrap, topic = service_settings.kafka.bootstrap_servers, service_settings.kafka.topic
    assert bootstrap is not None
    # six minutes of event time across midnight, produced in well under a second
    events = stream(720, MIDNIGHT - timedelta(minutes=3), timedelta(milliseconds=500), "A")
    poison = [Message(b"7494212", value, kind) for kind, value in POISON.items()]
    produce(bootstrap, topic, [event.message() for event in events[:400]] + poison)
    produce(bootstrap, topic, [event.message() for event in events[400:]])
    produced = len(events) + len(poison)
    expected = whatsapp_counts(events)
    assert {day for _, day in expected} == {date(2020, 2, 3), date(2020, 2, 4)}

    log = tmp_path / "service.log"
    service = start_warehouse("run", log=log)
    try:
        wait_for(lambda: panel(conn) == expected, "the panel to count every event")
        closed_day = date(2020, 2, 3)
        expected_bill = {customer: count for (customer, day), count in expected.items() if day == closed_day}
        first = wait_for(lambda: billing_runs(conn, closed_day), "the closed day's billing")
        assert first == [expected_bill]
        assert billing_runs(conn, date(2020, 2, 4)) == []  # still open

        # a late event for the billed day: a second billing run with the new figures
        late = NotificationEvent(
            customer_id=7494212,
            message_id="LATE000001",
            customer_name="Acme",
            channel="Whatsapp",
            payload="Olá XXXXX, seu pedido foi enviado!",
            event_datetime=MIDNIGHT - timedelta(hours=2),
        )
        produce(bootstrap, topic, [late.message()])

        def rebilled() -> list[dict[int, int]] | None:
            runs = billing_runs(conn, closed_day)
            return runs if len(runs) > 1 else None

        runs = wait_for(rebilled, "the re-bill")
        assert runs[1] == {**expected_bill, 7494212: expected_bill[7494212] + 1}
        produced += 1

        # the ledger notes the re-billed late event at the next tick, checks the figures: billed
        def status_once_billed() -> str | None:
            output = run_warehouse("status").stdout
            return output if "| 2020-02-03 | billed " in output else None

        status = wait_for(status_once_billed, "the ledger to call the day billed")
        assert "Watermark: 2020-02-04T00:02:00+00:00 (day 2020-02-04)" in status
        assert "| 2020-02-04 | open " in status
        assert f"Dead letters: {len(poison)} rejected messages" in status
        assert run_warehouse("status", "--check").stdout.startswith("healthy:")

        # more events in flight when SIGTERM arrives
        more = stream(2000, MIDNIGHT + timedelta(minutes=3), timedelta(milliseconds=50), "B")
        produce(bootstrap, topic, [event.message() for event in more])
        produced += len(more)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0, log.read_text()
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()

    output = log.read_text()
    assert "status:" in output
    assert "billed 2020-02-03" in output and "re-billing 2020-02-03" in output
    # nothing lost: what landed is every offset below the stored ones, once; the rest is still in Kafka
    for partition, (next_offset, count, end) in landed_offsets(conn, topic).items():
        assert count == end == next_offset, f"partition {partition}"
    run_warehouse("load", "kafka", "--until-idle", "2")
    assert sum(next_offset for next_offset, _, _ in landed_offsets(conn, topic).values()) == produced


def test_status_and_its_health_check(warehouse: Settings, conn: psycopg.Connection, monkeypatch):
    unhealthy = run_warehouse("status", "--check", check=False)
    assert unhealthy.returncode == 1
    assert unhealthy.stdout == "unhealthy: no minutely dbt run has succeeded yet\n"

    status = run_warehouse("status").stdout
    assert "Health: UNHEALTHY: no minutely dbt run has succeeded yet" in status
    assert "Watermark: none" in status
    assert "nothing landed yet" in status
    assert "Dead letters: 0 rejected messages" in status

    record = (
        "insert into ops.dbt_runs (kind, selection, started_at, finished_at, is_success)"
        " values ('minutely', 'tag:minutely', now() - %(ago)s::interval - interval '1 s',"
        " now() - %(ago)s::interval, %(ok)s)"
    )
    conn.execute(record, {"ago": "1 hour", "ok": True})
    conn.execute(record, {"ago": "5 seconds", "ok": False})
    stale = run_warehouse("status", "--check", check=False)
    assert stale.returncode == 1 and "finished 3,60" in stale.stdout

    started = time.monotonic()
    conn.execute(record, {"ago": "5 seconds", "ok": True})
    healthy = run_warehouse("status", "--check")
    # the CLI measures the age once it has started: 5 s plus the time that took, never less
    waited = time.monotonic() - started
    prefix, suffix = "healthy: the last successful minutely dbt run finished ", " s ago\n"
    assert healthy.stdout.startswith(prefix) and healthy.stdout.endswith(suffix)
    assert 5 <= int(healthy.stdout.removeprefix(prefix).removesuffix(suffix)) <= round(5 + waited)
    assert "| minutely | tag:minutely |" in run_warehouse("status").stdout
    assert "FAILED" in run_warehouse("status").stdout

    monkeypatch.setenv("WAREHOUSE_DSN", "postgresql://nobody@127.0.0.1:1/nothing")
    down = run_warehouse("status", "--check", check=False)
    assert down.returncode == 1 and "unhealthy: database unreachable" in down.stderr


def is_healthy() -> bool:
    return run_warehouse("status", "--check", check=False).returncode == 0


def unhealthy_saying(*texts: str) -> Callable[[], str | None]:
    """A condition: `--check`'s reason once it fails saying all the texts."""

    def condition() -> str | None:
        result = run_warehouse("status", "--check", check=False)
        said = all(text in result.stdout for text in texts)
        return result.stdout if result.returncode == 1 and said else None

    return condition


def test_health_check_fails_while_the_loader_is_stalled_and_recovers(
    service_settings: Settings, conn: psycopg.Connection, monkeypatch, tmp_path
):
    monkeypatch.setenv("WAREHOUSE_MINUTELY_INTERVAL", "1")
    monkeypatch.setenv("WAREHOUSE_HEALTH_MAX_STALL", "6")
    bootstrap, topic = service_settings.kafka.bootstrap_servers, service_settings.kafka.topic
    assert bootstrap is not None
    generate(bootstrap, topic, EventMix(seed=1), count=1000)
    log = tmp_path / "service.log"
    service = start_warehouse("run", log=log)
    try:
        wait_for(is_healthy, "the service to be healthy", timeout_s=120)

        # The loader cannot write (its offset rows are locked) while events keep arriving and the
        # minutely dbt runs keep succeeding.
        with psycopg.connect(conn.info.dsn) as locker:
            locker.execute("select * from raw.kafka_offsets where kafka_topic = %s for update", (topic,))
            arriving = threading.Thread(
                target=lambda: generate(bootstrap, topic, EventMix(seed=2), rate=3000, duration=30)
            )
            arriving.start()
            try:
                reason = wait_for(unhealthy_saying("no rows landed", "lag grew"), "--check to fail")
                assert reason.startswith("unhealthy: the loader is not keeping up (6 s at most): partition ")
                assert "no rows landed for " in reason and " messages behind" in reason
                assert " that arrived" in reason
                assert "the last successful minutely dbt run" not in reason  # dbt is fine
                assert "Health: UNHEALTHY: the loader is not keeping up" in run_warehouse("status").stdout
                wait_for(lambda: "loader NOT KEEPING UP: partition " in log.read_text(), "the status line")
            finally:
                locker.rollback()
                arriving.join()
        wait_for(is_healthy, "the health check to recover", timeout_s=120)
        assert "the loader keeps up again" in log.read_text()

        # A service that does not run at all (stopped by a signal) reports nothing: stale is unhealthy.
        os.kill(service.pid, signal.SIGSTOP)
        try:
            wait_for(unhealthy_saying("the service last reported the loader's progress "), "--check to fail")
        finally:
            os.kill(service.pid, signal.SIGCONT)
        wait_for(is_healthy, "the health check to recover", timeout_s=120)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0, log.read_text()
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    assert "loader keeping up" in log.read_text()


def test_postgres_crashing_under_the_service_stops_it_and_a_restart_lands_every_offset_once(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch, tmp_path
):
    # A server of its own: this test crashes it.
    home = tmp_path / "postgres"
    server_dsn = embedded.start(home)
    try:
        with fresh_warehouse(server_dsn, monkeypatch):
            monkeypatch.setenv("WAREHOUSE_MINUTELY_INTERVAL", "2")
            settings = fresh_topic(kafka_bootstrap, monkeypatch)
            events = stream(150_000, MIDNIGHT, timedelta(milliseconds=10), "C")
            produce(kafka_bootstrap, settings.kafka.topic, [event.message() for event in events])
            log = tmp_path / "service.log"
            service = start_warehouse("run", log=log)
            try:
                with psycopg.connect(db.resolve_dsn(settings), autocommit=True) as conn:
                    wait_for(
                        lambda: any(n for n, _, _ in landed_offsets(conn, settings.kafka.topic).values()),
                        "the first batches to land",
                    )
                embedded.stop(home, immediate=True)
                assert service.wait(timeout=60) == 1
            finally:
                if service.poll() is None:
                    service.kill()
                    service.wait()
            output = log.read_text()
            assert "Traceback" not in output
            # the service says why it stops in one line (the dbt run in flight reports its own failure)
            (said,) = [line for line in output.splitlines() if " ERROR warehouse.service: " in line]
            assert "loader stopped, so the service stops (exit 1): " in said, said
            assert "Consumer poll timeout" not in output  # the consumer left the group at once

            embedded.start(home, port=int(server_dsn.rsplit(":", 1)[1].split("/")[0]))
            restarted = start_warehouse("run", log=tmp_path / "restarted.log")
            try:
                with psycopg.connect(db.resolve_dsn(settings), autocommit=True) as conn:
                    wait_for(
                        lambda: (
                            sum(n for n, _, _ in landed_offsets(conn, settings.kafka.topic).values())
                            == len(events)
                        ),
                        "every event to land after the restart",
                        timeout_s=120,
                    )
                    restarted.send_signal(signal.SIGTERM)
                    assert restarted.wait(timeout=60) == 0
                    for partition, (next_offset, count, end) in landed_offsets(
                        conn, settings.kafka.topic
                    ).items():
                        assert count == end == next_offset, f"partition {partition}"
            finally:
                if restarted.poll() is None:
                    restarted.kill()
                    restarted.wait()
    finally:
        embedded.stop(home, purge=True)
