"""The demo's notification stream: a day and a half of events around the seed's, for `warehouse demo`.

50 customers, Acme (7494212) among them with a larger share, events from 2020-02-02T00:00Z to
2020-02-03T15:00Z in time order, so the watermark is the seed's 2020-02-03T15:00:00+00:00 and
2020-02-02 is a closed day to bill. The seed's two Acme messages are in it as they are in the seed;
about 0.5% redeliveries and a few poison messages make it realistic.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from loader.generator import (
    CHANNEL_WEIGHTS,
    FIRST_NAMES,
    MESSAGES,
    POISON,
    RECENT_EVENTS_KEPT,
    Message,
    NotificationEvent,
    customers,
)

STARTS_AT = datetime(2020, 2, 2, tzinfo=UTC)
ENDS_AT = datetime(2020, 2, 3, 15, tzinfo=UTC)
ACME = (7494212, "Acme")
ACME_SHARE = 0.08
DUPLICATE_RATE = 0.005
POISON_RATE = 0.0002
SEED_WELCOME = "Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?"
SEED_EVENTS = tuple(
    NotificationEvent(
        customer_id=ACME[0],
        message_id=message_id,
        customer_name=ACME[1],
        channel="Whatsapp",
        payload=SEED_WELCOME,
        event_datetime=datetime(2020, 2, 3, 14, 0, 1, 1000, tzinfo=UTC),
    )
    for message_id in ("5B81FF24A1", "A61D178E73")
)


def messages(count: int, *, customer_count: int = 50, seed: int = 2020) -> Iterator[Message]:
    """count messages in event-time order, the last one at ENDS_AT."""
    rng = random.Random(seed)
    # nobody else named Acme, so the reports can name it
    others = [
        (customer_id, name)
        for customer_id, name in customers(2 * customer_count, rng)
        if customer_id != ACME[0] and name != ACME[1]
    ]
    others = others[: customer_count - 1]
    span_s = (ENDS_AT - STARTS_AT).total_seconds()
    offsets = sorted(rng.uniform(0, span_s) for _ in range(count - len(SEED_EVENTS) - 1))
    offsets.append(span_s)
    seeds = list(SEED_EVENTS)
    channels, weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    recent: deque[Message] = deque(maxlen=RECENT_EVENTS_KEPT)
    for offset in offsets:
        happened_at = STARTS_AT + timedelta(seconds=offset)
        while seeds and seeds[0].event_datetime <= happened_at:
            yield seeds.pop(0).message()
        # the last message is an event, so the watermark is ENDS_AT
        draw = rng.random() if offset < span_s else 1.0
        if draw < DUPLICATE_RATE and recent:
            original = recent[-1 - rng.randrange(len(recent))]
            yield Message(original.key, original.value, "duplicate")
            continue
        if draw < DUPLICATE_RATE + POISON_RATE:
            kind, value = rng.choice(list(POISON.items()))
            yield Message(str(ACME[0]).encode(), value, kind)
            continue
        customer_id, customer_name = ACME if rng.random() < ACME_SHARE else rng.choice(others)
        message = NotificationEvent(
            customer_id=customer_id,
            message_id=f"{rng.getrandbits(40):010X}",
            customer_name=customer_name,
            channel=rng.choices(channels, weights)[0],
            payload=rng.choice(MESSAGES).format(name=rng.choice(FIRST_NAMES)),
            event_datetime=happened_at,
        ).message()
        recent.append(message)
        yield message
