"""The offset-incremental models across runs: late events, redeliveries, partitions, full refresh."""

from __future__ import annotations

from tests.conftest import run_warehouse
from tests.notifications_helpers import event, land_events

ROLLUP = "select channel, minute_at::text, notification_count from marts.fct_notifications_per_minute"
PANEL = "select whatsapp_notifications from marts.rpt_notification_panel where panel_date = '2020-02-03'"


def minutely() -> None:
    run_warehouse("build", "--quiet", "--select", "tag:minutely")


def test_late_events_and_redeliveries_across_runs(conn):
    land_events(conn, [event(message_id="A", event_datetime="2020-02-03T14:00:01Z")])
    run_warehouse("build", "--quiet")  # creates the views the minutely selection reads
    # a redelivery of A, a late event in A's old minute, an SMS in it, and a partition whose
    # offsets start far from 0 (a topic compacted or a group that joined late)
    land_events(conn, [event(message_id="A", event_datetime="2020-02-03T14:00:01Z")])
    land_events(conn, [event(message_id="LATE", event_datetime="2020-02-03T11:00:59.999-03:00")])
    land_events(conn, [event(message_id="S", channel="sms", event_datetime="2020-02-03T14:00:30Z")],
                partition=3, offset=1_000_000)  # fmt: skip
    minutely()
    expected = [("sms", "2020-02-03 14:00:00+00", 1), ("whatsapp", "2020-02-03 14:00:00+00", 2)]
    assert conn.execute(ROLLUP + " order by channel").fetchall() == expected
    minutely()  # nothing new: nothing changes
    land_events(conn, [event(message_id="LATE", event_datetime="2020-02-03T11:00:59.999-03:00")], partition=3)
    minutely()  # a redelivery on another partition, in a later run
    assert conn.execute(ROLLUP + " order by channel").fetchall() == expected
    assert conn.execute(
        "select message_id, kafka_partition, kafka_offset from marts.fct_notifications order by message_id"
    ).fetchall() == [("A", 0, 0), ("LATE", 0, 2), ("S", 3, 1_000_000)]
    assert conn.execute(
        "select model_name, kafka_partition, processed_offset from intermediate.int_kafka_offsets_processed"
        " where model_name = 'fct_notifications_per_minute' order by kafka_partition"
    ).fetchall() == [("fct_notifications_per_minute", 0, 3), ("fct_notifications_per_minute", 3, 1_000_002)]

    # rebuilding the rollup from scratch gives the same minutes
    run_warehouse("build", "--quiet", "--full-refresh", "--select", "fct_notifications_per_minute")
    assert conn.execute(ROLLUP + " order by channel").fetchall() == expected


def test_a_message_id_reused_by_another_event_is_kept_and_warned_about(conn):
    land_events(conn, [event(message_id="A", event_datetime="2020-02-03T14:00:01Z")])
    run_warehouse("build", "--quiet")
    # not a redelivery (which repeats the event): the same id on an event an hour later, counted by
    # the panel from the raw tail, then stored and rolled up
    land_events(conn, [event(message_id="A", event_datetime="2020-02-03T15:00:01Z")])
    assert conn.execute(PANEL).fetchall() == [(2,)]
    run_warehouse("exec", "--", "dbt", "run", "--quiet", "--select", "tag:minutely")  # as the service runs it
    assert conn.execute(
        "select message_id, event_at::text from marts.fct_notifications order by event_at"
    ).fetchall() == [("A", "2020-02-03 14:00:01+00"), ("A", "2020-02-03 15:00:01+00")]
    assert conn.execute(ROLLUP + " order by minute_at").fetchall() == [
        ("whatsapp", "2020-02-03 14:00:00+00", 1),
        ("whatsapp", "2020-02-03 15:00:00+00", 1),
    ]
    assert conn.execute(PANEL).fetchall() == [(2,)]
    checked = run_warehouse("exec", "--", "dbt", "test", "--select", "fct_notifications")
    assert "WARN 1 unique_combination_of_columns_fct_notifications_message_id" in checked.stdout


def test_one_customer_panel_can_use_indexes_only(conn):
    land_events(conn, [event(message_id=f"M{n}") for n in range(50)])
    run_warehouse("build", "--quiet")
    land_events(conn, [event(message_id="TAIL")])
    conn.execute("analyze")
    with conn.transaction():
        conn.execute("set local enable_seqscan = off")  # small tables: show the indexes are usable
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "explain select * from marts.rpt_notification_panel"
                " where customer_id = 7494212 and panel_date = '2020-02-03'"
            )
        )
    # index paths exist for every large relation (which one wins depends on the sizes: bench/)
    assert "Seq Scan on notification_events" not in plan
    assert "Seq Scan on fct_notifications" not in plan
    assert conn.execute(
        "select whatsapp_notifications from marts.rpt_notification_panel where customer_id = 7494212"
    ).fetchall() == [(51,)]
