"""`warehouse serve`: the portal under uvicorn, reading through the portal's read-only role."""

import logging
import signal
from types import FrameType

import psycopg
import psycopg_pool
import uvicorn

from loader import db, dbt
from loader.portal import tokens
from loader.portal.access import Portal
from loader.portal.app import create_app
from loader.portal.settings import PortalSettings
from loader.settings import Settings

log = logging.getLogger(__name__)


class CannotServe(RuntimeError):
    pass


def open_pool(settings: Settings, size: int) -> psycopg_pool.ConnectionPool:
    dsn = db.portal_reader_dsn(settings)
    try:
        # one plain connection first: its error says why (no role, wrong password) where the pool
        # would only time out
        psycopg.connect(dsn, connect_timeout=10).close()
    except psycopg.OperationalError as error:
        raise CannotServe(
            f"cannot connect as {db.PORTAL_READER_ROLE} ({error}): `warehouse up` creates the role"
            " (its password: PORTAL_READER_PASSWORD)"
        ) from None
    pool = psycopg_pool.ConnectionPool(
        dsn,
        min_size=min(2, size),
        max_size=size,
        # Prepared at first use, with a generic plan: the panel's view spans the raw tail's daily
        # partitions several times, and planning it for each request's values cost ~6 ms where the
        # generic plan (partitions pruned at run time) runs in ~1.5 ms (10M-event benchmark).
        kwargs={
            "autocommit": True,
            "application_name": "warehouse-portal",
            "prepare_threshold": 0,
            "options": "-c plan_cache_mode=force_generic_plan",
        },
        open=False,
        name="portal",
    )
    pool.open(wait=True, timeout=30)
    return pool


def _already_handled(_signum: int, _frame: FrameType | None) -> None:
    pass


def serve(settings: Settings, host: str, port: int) -> int:
    """Serve in the foreground until SIGTERM/SIGINT (uvicorn finishes the requests in flight)."""
    portal_settings = PortalSettings.from_env()
    secret = tokens.load_secret(settings.home, is_embedded=settings.is_embedded)
    pool = open_pool(settings, portal_settings.pool_size)
    try:
        portal = Portal(
            pool=pool,
            secret=secret,
            timezone=str(dbt.project_var("notification_day_timezone")),
            settings=settings,
            frame_ancestors=portal_settings.frame_ancestors,
        )
        # no access log: every URL carries a link's token, which must not end up in log files
        config = uvicorn.Config(
            create_app(portal), host=host, port=port, access_log=False, log_level="info", server_header=False
        )
        log.info("portal on http://%s:%d/ (links: `warehouse portal link`)", host, port)
        # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the
        # handlers it found: no-op ones make serve exit 0 after that, as `warehouse run` does
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, _already_handled)
        uvicorn.Server(config).run()
    finally:
        pool.close()
    return 0
