"""The demo's stream: the seed's messages in it, event-time order, the watermark the seed shows."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from loader import demo


def test_demo_stream_holds_the_seed_messages_in_time_order_and_ends_at_the_watermark():
    messages = list(demo.messages(20_000))
    assert len(messages) == 20_000
    events = [json.loads(message.value) for message in messages if message.kind == "event"]
    seed = [event for event in events if event["message_id"] in ("5B81FF24A1", "A61D178E73")]
    assert seed == [
        {
            "customer_id": 7494212,
            "message_id": message_id,
            "customer_name": "Acme",
            "channel": "Whatsapp",
            "payload": "Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?",
            "event_datetime": "2020-02-03T14:00:01.001+00:00",
        }
        for message_id in ("5B81FF24A1", "A61D178E73")
    ]
    times = [datetime.fromisoformat(event["event_datetime"]) for event in events]
    assert times == sorted(times)
    assert times[0] >= demo.STARTS_AT and times[-1] == demo.ENDS_AT
    customers = Counter((event["customer_id"], event["customer_name"]) for event in events)
    assert len(customers) == 50
    assert [name for (_, name) in customers].count("Acme") == 1
    assert 0.06 < customers[demo.ACME] / len(events) < 0.10
    kinds = Counter(message.kind for message in messages)
    assert kinds["duplicate"] > 0 and len(kinds) > 2  # redeliveries and poison too
    assert messages == list(demo.messages(20_000))  # reproducible
