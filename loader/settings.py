"""Settings, read from environment variables only (no secrets in files)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


# Measured (bench/broker.py, bench/soak.py): see bench/README.md.
EMBEDDED_WARN_MESSAGES = 5_000_000


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
    # `warehouse run` warns once the embedded broker holds this many messages: it keeps every one
    # in memory and its fetches slow down as the topic grows (bench/README.md, the broker).
    embedded_warn_messages: int

    @classmethod
    def from_env(cls) -> KafkaSettings:
        return cls(
            bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            topic=os.environ.get("KAFKA_TOPIC", "notifications"),
            group_id=os.environ.get("KAFKA_GROUP_ID", "warehouse-loader"),
            partitions=int_env("KAFKA_TOPIC_PARTITIONS", 4),
            session_timeout_ms=int_env("KAFKA_SESSION_TIMEOUT_MS", 10_000),
            max_poll_interval_ms=int_env("KAFKA_MAX_POLL_INTERVAL_MS", 30_000),
            embedded_warn_messages=int_env("KAFKA_EMBEDDED_WARN_MESSAGES", EMBEDDED_WARN_MESSAGES),
        )

    @property
    def is_embedded(self) -> bool:
        return self.bootstrap_servers is None


def _seconds_env(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if seconds <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return seconds


@dataclass(frozen=True)
class ServiceSettings:
    """`warehouse run`: how often it runs dbt and when it bills."""

    # Seconds between two runs of the minutely dbt selection.
    minutely_interval_s: float
    # The dbt selection run every interval.
    minutely_select: str
    # Seconds to wait after a day has closed (the watermark entered the next day) before billing
    # it: late events of the day still make it into the first bill.
    billing_grace_s: float
    # Seconds between two status lines in the log.
    status_interval_s: float
    # `warehouse status --check` fails when no minutely run succeeded for this long.
    health_max_age_s: float
    # ... and when the loader has not kept up for this long: no rows landed while there was lag,
    # or the lag grew the whole time (the service reports the loader's progress every tick).
    health_max_stall_s: float

    @classmethod
    def from_env(cls) -> ServiceSettings:
        interval = _seconds_env("WAREHOUSE_MINUTELY_INTERVAL", 60.0)
        return cls(
            minutely_interval_s=interval,
            minutely_select=os.environ.get("WAREHOUSE_MINUTELY_SELECT", "tag:minutely"),
            billing_grace_s=_seconds_env("WAREHOUSE_BILLING_GRACE", 900.0),
            status_interval_s=_seconds_env("WAREHOUSE_STATUS_INTERVAL", 60.0),
            health_max_age_s=_seconds_env("WAREHOUSE_HEALTH_MAX_AGE", max(180.0, 3 * interval)),
            health_max_stall_s=_seconds_env("WAREHOUSE_HEALTH_MAX_STALL", max(300.0, 5 * interval)),
        )


def days_env(name: str, default: int) -> int:
    days = int_env(name, default)
    if days <= 0:
        raise ValueError(f"{name} must be a positive number of days, got {days}")
    return days


@dataclass(frozen=True)
class RetentionSettings:
    """How long rows are kept; the rollup and the bills are kept forever."""

    # Raw notification events, by the day they landed (loaded_at).
    raw_days: int
    # fct_notifications (the detailed report's source), by event day.
    detail_days: int

    @classmethod
    def from_env(cls) -> RetentionSettings:
        return cls(
            raw_days=days_env("RAW_RETENTION_DAYS", 30),
            detail_days=days_env("DETAIL_RETENTION_DAYS", 90),
        )


@dataclass(frozen=True)
class Settings:
    # Where the embedded PostgreSQL keeps its data; unused when `dsn` points at a server.
    home: Path
    # An existing server (TimescaleDB from docker-compose, any PostgreSQL 15+); None = embedded.
    dsn: str | None
    # dbt target in profiles/profiles.yml.
    dbt_target: str
    # Password of the read-only BI role; None: on the embedded server its generated one
    # (loader.db.bi_reader_password), elsewhere the role keeps its password or, new, cannot log in.
    bi_reader_password: str | None
    kafka: KafkaSettings = field(default_factory=KafkaSettings.from_env)
    service: ServiceSettings = field(default_factory=ServiceSettings.from_env)
    retention: RetentionSettings = field(default_factory=RetentionSettings.from_env)
    # Password of the portal's read-only role (`warehouse serve`); None: as bi_reader_password
    # (loader.db.portal_reader_password).
    portal_reader_password: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            home=Path(os.environ.get("WAREHOUSE_HOME", ".warehouse")).resolve(),
            dsn=os.environ.get("WAREHOUSE_DSN") or None,
            dbt_target=os.environ.get("WAREHOUSE_DBT_TARGET", "postgres"),
            bi_reader_password=os.environ.get("BI_READER_PASSWORD") or None,
            kafka=KafkaSettings.from_env(),
            service=ServiceSettings.from_env(),
            retention=RetentionSettings.from_env(),
            portal_reader_password=os.environ.get("PORTAL_READER_PASSWORD") or None,
        )

    @property
    def is_embedded(self) -> bool:
        return self.dsn is None

    @property
    def is_timescale(self) -> bool:
        """The timescale target: hypertables and TimescaleDB policies instead of daily partitions."""
        return self.dbt_target == "timescale"
