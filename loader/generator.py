"""Realistic notification events for the Kafka topic: `warehouse generate`, the demo and the benchmarks.

An event is the seed's JSON payload keyed by its customer id:
{"customer_id": 7494212, "message_id": "5B81FF24A1", "customer_name": "Acme", "channel": "Whatsapp",
 "payload": "Olá Maria, seja muito bem-vindo! Precisa de alguma ajuda?",
 "event_datetime": "2020-02-03T14:00:01.001+00:00"}
Mixed in on request: duplicates (the same bytes sent again, as a producer retry does), late events
(an event_datetime hours or days old) and poison messages (every kind the loader must reject).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from confluent_kafka import KafkaError, Producer

log = logging.getLogger(__name__)

# Mostly "Whatsapp", spelled as the seed does, with other spellings and channels mixed in.
CHANNEL_WEIGHTS = {"Whatsapp": 80, "WhatsApp": 6, "WHATSAPP": 3, "SMS": 6, "Email": 3, "Push": 2}
_CHANNEL_DRAWS = tuple(channel for channel, weight in CHANNEL_WEIGHTS.items() for _ in range(weight))
COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Soylent",
    "Padaria Pão Quente", "Farmácia Vida", "Auto Peças São Jorge", "Mercado Bom Preço", "Ótica Visão",
    "Clínica Sorriso", "Construtora Horizonte", "Pet Shop Amigo Fiel", "Livraria Saber",
)  # fmt: skip
COMPANY_SUFFIXES = ("", " Ltda", " S.A.", " Comércio", " Serviços", " Digital")
FIRST_NAMES = (
    "Maria", "João", "Ana", "José", "Francisca", "Antônio", "Adriana", "Carlos", "Juliana", "Paulo",
    "Márcia", "Lucas", "Fernanda", "Pedro", "Patrícia", "Gabriel", "Aline", "Rafael", "Camila", "Luiz",
)  # fmt: skip
MESSAGES = (
    "Olá {name}, seja muito bem-vindo! Precisa de alguma ajuda?",
    "Oi {name}, seu pedido foi enviado e chega em até 3 dias úteis.",
    "{name}, sua fatura vence amanhã. Pague pelo app e evite juros.",
    "Olá {name}, obrigado pelo contato! Como podemos ajudar?",
    "Bom dia, {name}! Sua consulta está confirmada para amanhã às 10h.",
    "{name}, temos uma oferta especial para você: 20% de desconto hoje.",
)
# The average of the real topic (100 million a day): spacing of events when --start is given.
DAILY_EVENTS = 100_000_000
LATE_BY = (timedelta(minutes=10), timedelta(days=2))
RECENT_EVENTS_KEPT = 10_000


@dataclass(frozen=True)
class Message:
    """What goes on the wire; kind says what the generator meant it to be."""

    key: bytes | None
    value: bytes | None
    kind: str = "event"


# One of each kind of value the loader must route to raw.notification_events_rejected.
POISON: dict[str, bytes | None] = {
    "not_json": b'{"customer_id": 1, "message_id": "0000000000", truncated',
    "invalid_utf8": b'{"customer_id": 1, "customer_name": "Jo\xe3o"}',
    "array": b'[{"customer_id": 1}]',
    "string": b'"customer_id=1"',
    "empty": b"",
    "tombstone": None,
    "nul_escape": b'{"customer_id": 1, "payload": "Ol\\u0000a"}',
}


@dataclass(frozen=True)
class NotificationEvent:
    customer_id: int
    message_id: str
    customer_name: str
    channel: str
    payload: str
    event_datetime: datetime

    def message(self, kind: str = "event") -> Message:
        value = orjson.dumps(
            {
                "customer_id": self.customer_id,
                "message_id": self.message_id,
                "customer_name": self.customer_name,
                "channel": self.channel,
                "payload": self.payload,
                "event_datetime": self.event_datetime.isoformat(timespec="milliseconds"),
            }
        )
        return Message(key=str(self.customer_id).encode(), value=value, kind=kind)


@dataclass(frozen=True)
class EventMix:
    """What `generate` produces besides plain events; rates are fractions of all messages."""

    customers: int = 1_000
    duplicate_rate: float = 0.0
    malformed_rate: float = 0.0
    late_rate: float = 0.0
    # None: events happen now (wall clock); else a synthetic clock from here, events spaced like
    # the real topic's average (or 1/rate when producing at a rate).
    start: datetime | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        for name in ("duplicate_rate", "malformed_rate", "late_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.duplicate_rate + self.malformed_rate > 1:
            raise ValueError("duplicate_rate + malformed_rate must not exceed 1")


def customers(count: int, rng: random.Random) -> list[tuple[int, str]]:
    """count (customer_id, customer_name) pairs with distinct 7-digit ids."""
    ids = rng.sample(range(1_000_000, 10_000_000), count)
    return [(customer_id, rng.choice(COMPANIES) + rng.choice(COMPANY_SUFFIXES)) for customer_id in ids]


def messages(count: int, mix: EventMix, *, rate: float | None = None) -> Iterator[Message]:
    """count messages: events with duplicates, poison and late events mixed in as `mix` says."""
    rng = random.Random(mix.seed)
    known = customers(mix.customers, rng)
    recent: deque[Message] = deque(maxlen=RECENT_EVENTS_KEPT)
    poison = list(POISON.items())
    clock = mix.start.astimezone(UTC) if mix.start is not None else None
    mean_gap_s = 1 / rate if rate else 86_400 / DAILY_EVENTS
    late_range_s = (LATE_BY[0].total_seconds(), LATE_BY[1].total_seconds())
    for _ in range(count):
        draw = rng.random()
        if draw < mix.duplicate_rate and recent:
            original = recent[-1 - rng.randrange(len(recent))]
            yield Message(original.key, original.value, "duplicate")
            continue
        if draw < mix.duplicate_rate + mix.malformed_rate:
            kind, value = rng.choice(poison)
            yield Message(str(rng.choice(known)[0]).encode(), value, kind)
            continue
        if clock is None:
            happened_at = datetime.now(UTC)
        else:
            clock += timedelta(seconds=rng.expovariate(1 / mean_gap_s))
            happened_at = clock
        kind = "event"
        if rng.random() < mix.late_rate:
            happened_at -= timedelta(seconds=rng.uniform(*late_range_s))
            kind = "late"
        customer_id, customer_name = rng.choice(known)
        event = NotificationEvent(
            customer_id=customer_id,
            message_id=f"{rng.getrandbits(40):010X}",
            customer_name=customer_name,
            channel=rng.choice(_CHANNEL_DRAWS),
            payload=rng.choice(MESSAGES).format(name=rng.choice(FIRST_NAMES)),
            event_datetime=happened_at,
        )
        message = event.message(kind)
        recent.append(message)
        yield message


# At 3,500 messages/s over 4 partitions: ~440 messages a batch instead of ~18 with 20 ms.
RATE_LINGER_MS = 500


@dataclass
class ProduceReport:
    kinds: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def describe(self) -> str:
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(self.kinds.items()))
        rate = self.total / self.seconds if self.seconds else 0.0
        return f"produced {self.total:,} messages in {self.seconds:.1f} s ({rate:,.0f} msg/s): {kinds}"


def produce(
    bootstrap: str,
    topic: str,
    to_send: Iterable[Message],
    *,
    rate: float | None = None,
    batch_messages: int = 10_000,
) -> ProduceReport:
    """Send messages as fast as the broker takes them (or at `rate` per second); raise if any failed.
    batch_messages caps the messages per batch (bench/broker.py: batches as a slower producer's).

    librdkafka (confluent-kafka) rather than kafka-python: producing is ~10x faster, and the
    partitioner is Kafka's murmur2 like the Java client's, so a customer's events share a partition.
    At a rate, batches wait RATE_LINGER_MS to fill: the embedded broker's fetches slow down with
    the number of batches it holds, not messages (bench/README.md, the broker).
    """
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "warehouse-generator",
            "acks": 1,
            "enable.idempotence": False,
            "linger.ms": RATE_LINGER_MS if rate else 20,
            "batch.size": 1 << 20,
            "batch.num.messages": batch_messages,
            "compression.type": "none",
            "partitioner": "murmur2_random",
            "queue.buffering.max.messages": 500_000,
        }
    )
    metadata = producer.list_topics(topic, timeout=30)
    if metadata.topics[topic].error is not None:
        raise LookupError(f"topic {topic}: {metadata.topics[topic].error.str()} (`warehouse up` creates it)")
    report = ProduceReport()
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    started = time.monotonic()
    for sent, message in enumerate(to_send):
        if rate:
            ahead = started + sent / rate - time.monotonic()
            if ahead > 0.001:  # sleeping less is not worth a system call
                time.sleep(ahead)
        while True:
            try:
                producer.produce(topic, message.value, message.key, on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: let librdkafka send some
                producer.poll(0.05)
        if sent % 1000 == 0:
            producer.poll(0)  # run delivery callbacks
        report.kinds[message.kind] += 1
    undelivered = producer.flush(60)
    report.seconds = time.monotonic() - started
    if undelivered or failures:
        reason = failures[0].str() if failures else "not acknowledged within 60 s"
        raise RuntimeError(
            f"{len(failures) + undelivered} of {report.total} messages were not delivered: {reason}"
        )
    return report


def generate(
    bootstrap: str,
    topic: str,
    mix: EventMix,
    *,
    count: int | None = None,
    rate: float | None = None,
    duration: float | None = None,
    batch_messages: int = 10_000,
) -> ProduceReport:
    """`warehouse generate`: count messages as fast as possible, or rate per second for duration s."""
    if count is None:
        if rate is None or duration is None:
            raise ValueError("give count, or rate and duration")
        count = round(rate * duration)
    return produce(
        bootstrap, topic, messages(count, mix, rate=rate), rate=rate, batch_messages=batch_messages
    )
