"""The portal's settings, from env vars."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from loader.settings import days_env, int_env

DEFAULT_URL = "http://127.0.0.1:8080"


def _frame_ancestors(value: str) -> str:
    # a value is pasted into the CSP header: no directive separator, no header break
    if any(character in value for character in ";,\r\n"):
        raise ValueError(f"WAREHOUSE_PORTAL_FRAME_ANCESTORS must be CSP sources, got {value!r}")
    return value


@dataclass(frozen=True)
class PortalSettings:
    # Where the portal is reached, for the links `warehouse portal link` prints.
    public_url: str
    # CSP frame-ancestors sources: who may embed the portal ('none': nobody).
    frame_ancestors: str
    # Database connections of the server's pool.
    pool_size: int
    # A link's lifetime when `warehouse portal link` gets no --expires-in.
    link_ttl: timedelta

    @classmethod
    def from_env(cls) -> PortalSettings:
        return cls(
            public_url=os.environ.get("WAREHOUSE_PORTAL_URL", DEFAULT_URL).rstrip("/"),
            frame_ancestors=_frame_ancestors(os.environ.get("WAREHOUSE_PORTAL_FRAME_ANCESTORS", "'none'")),
            pool_size=int_env("WAREHOUSE_PORTAL_POOL_SIZE", 8),
            link_ttl=timedelta(days=days_env("WAREHOUSE_PORTAL_LINK_DAYS", 30)),
        )
