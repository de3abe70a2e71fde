"""Events no model can use (strings too long for the event key's index, ids of the wrong JSON type,
undocumented timestamp forms, years out of range) are quarantined with their reason; they never
fail or stall the minutely models."""

from __future__ import annotations

from tests.conftest import run_warehouse
from tests.notifications_helpers import event, land_events

QUARANTINED = "select kafka_offset, invalid_reason from marts.fct_notification_events_quarantined order by 1"
STORED = "select customer_id, message_id from marts.fct_notifications order by message_id"


def test_unusable_events_are_quarantined_and_the_models_keep_moving(conn):
    land_events(
        conn,
        [
            event(message_id="M" * 3000),
            event(message_id="CH", channel="W" * 3000),
            event(message_id="S", customer_id="1005"),
            event(message_id="Z", customer_id="0001001"),
            event(message_id={"id": "x"}),
            event(message_id="BC", event_datetime="2020-02-03T14:00:00+00 BC"),
            event(message_id="ETC", event_datetime="2020-02-03T14:00:00 Etc/GMT-3"),
            event(message_id="Y", event_datetime="9999-12-31T23:59:59Z"),
            event(message_id="F", customer_id=1007.0),
            event(message_id="E", customer_id=1.008e3),
            event(message_id="OK"),
        ],
    )
    run_warehouse("build", "--quiet", "--exclude", "test_type:unit")
    assert conn.execute(QUARANTINED).fetchall() == [
        (0, "message_id is longer than 200 characters"),
        (1, "channel is longer than 64 characters"),
        (2, "customer_id is not a non-negative integer"),
        (3, "customer_id is not a non-negative integer"),
        (4, "message_id is not a string"),
        (5, "event_datetime is not an ISO 8601 timestamp with a UTC offset"),
        (6, "event_datetime is not an ISO 8601 timestamp with a UTC offset"),
        (7, "event_datetime is not in the years 2000 to 2099"),
    ]
    # 1007.0 and 1.008e3 are whole numbers, as 1007 and 1008 are
    assert conn.execute(STORED).fetchall() == [(1008, "E"), (1007, "F"), (7494212, "OK")]

    # the next run takes the next events: nothing is stuck behind the unusable ones
    land_events(conn, [event(message_id="NEXT")])
    run_warehouse("build", "--quiet", "--select", "tag:minutely")
    assert conn.execute(
        "select processed_offset from intermediate.int_kafka_offsets_processed"
        " where model_name = 'fct_notifications'"
    ).fetchall() == [(12,)]
    assert ("NEXT",) in conn.execute("select message_id from marts.fct_notifications").fetchall()
