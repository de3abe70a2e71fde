"""Settings, read from environment variables only (no secrets in files)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


@dataclass(frozen=True)
class KafkaSettings:
    # An existing cluster (Apache Kafka from docker-compose); None = the embedded broker.
    bootstrap_servers: str | None
    topic: str
    group_id: str
    # Partition count `warehouse up` gives the topic when it creates it.
    partitions: int
    # A dead loader's partitions move to the survivors after session_timeout_ms; a loader that
    # does not poll for max_poll_interval_ms leaves the group (the offset fence keeps it harmless).
    session_timeout_ms: int
    max_poll_interval_ms: int

    @classmethod
    def from_env(cls) -> KafkaSettings:
        return cls(
            bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            topic=os.environ.get("KAFKA_TOPIC", "notifications"),
            group_id=os.environ.get("KAFKA_GROUP_ID", "warehouse-loader"),
            partitions=_int_env("KAFKA_TOPIC_PARTITIONS", 4),
            session_timeout_ms=_int_env("KAFKA_SESSION_TIMEOUT_MS", 10_000),
            max_poll_interval_ms=_int_env("KAFKA_MAX_POLL_INTERVAL_MS", 30_000),
        )

    @property
    def is_embedded(self) -> bool:
        return self.bootstrap_servers is None


@dataclass(frozen=True)
class Settings:
    # Where the embedded PostgreSQL keeps its data; unused when `dsn` points at a server.
    home: Path
    # An existing server (TimescaleDB from docker-compose, any PostgreSQL 15+); None = embedded.
    dsn: str | None
    # dbt target in profiles/profiles.yml.
    dbt_target: str
    # Password of the read-only BI role; without it the role exists but cannot log in.
    bi_reader_password: str | None
    kafka: KafkaSettings = field(default_factory=KafkaSettings.from_env)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            home=Path(os.environ.get("WAREHOUSE_HOME", ".warehouse")).resolve(),
            dsn=os.environ.get("WAREHOUSE_DSN") or None,
            dbt_target=os.environ.get("WAREHOUSE_DBT_TARGET", "postgres"),
            bi_reader_password=os.environ.get("BI_READER_PASSWORD") or None,
            kafka=KafkaSettings.from_env(),
        )

    @property
    def is_embedded(self) -> bool:
        return self.dsn is None
