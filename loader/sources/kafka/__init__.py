"""Kafka topic -> raw.notification_events, exactly once, bad messages to raw.notification_events_rejected.

Exactly once: raw.kafka_offsets holds, per partition, the next offset to land. Each batch is one
PostgreSQL transaction that first moves every partition's offset with a compare-and-set, then
COPYs the rows (`fence`); a fenced batch rolls back whole and the loader seeks to the stored
offsets again. That fence, not the consumer group, is what keeps a paused or zombie loader from
writing a duplicate; the group only spreads the partitions.

Throughput: the main thread polls, validates and encodes a batch as COPY text (`encoding`) while
writer threads (`writers`, one connection each, a partition always on the same one) land the
previous one, so Python and PostgreSQL work in parallel. `loader` is the consumer loop.
"""

from loader.sources.kafka.encoding import Batch
from loader.sources.kafka.fence import Fenced, LoaderError
from loader.sources.kafka.loader import BATCH_SIZE, KafkaLoader, LoaderStats, consumer_config
from loader.sources.kafka.writers import land_batch

__all__ = [
    "BATCH_SIZE",
    "Batch",
    "Fenced",
    "KafkaLoader",
    "LoaderError",
    "LoaderStats",
    "consumer_config",
    "land_batch",
]
