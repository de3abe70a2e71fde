"""Settings, read from environment variables only (no secrets in files)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            home=Path(os.environ.get("WAREHOUSE_HOME", ".warehouse")).resolve(),
            dsn=os.environ.get("WAREHOUSE_DSN") or None,
            dbt_target=os.environ.get("WAREHOUSE_DBT_TARGET", "postgres"),
            bi_reader_password=os.environ.get("BI_READER_PASSWORD") or None,
        )

    @property
    def is_embedded(self) -> bool:
        return self.dsn is None
