"""Helpers shared by the benchmark scripts: a throwaway embedded warehouse and a stopwatch."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loader import PROJECT_DIR

WAREHOUSE_BIN = Path(sys.executable).parent / "warehouse"


@contextmanager
def scratch_warehouse() -> Iterator[Path]:
    """A fresh embedded warehouse in a temporary WAREHOUSE_HOME, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="warehouse-bench-") as home:
        os.environ["WAREHOUSE_HOME"] = home
        os.environ.pop("WAREHOUSE_DSN", None)
        os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        warehouse("up")
        try:
            yield Path(home)
        finally:
            warehouse("down", "--purge")  # PostgreSQL and the embedded Kafka broker


def warehouse(*args: str | Path, stdout: int | None = subprocess.DEVNULL) -> None:
    subprocess.run([str(WAREHOUSE_BIN), *map(str, args)], check=True, cwd=PROJECT_DIR, stdout=stdout)


@contextmanager
def timed(label: str, rows: int | None = None) -> Iterator[None]:
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    rate = f"  {rows / elapsed:>12,.0f} rows/s" if rows else ""
    print(f"{label:<40} {elapsed:8.2f} s{rate}", flush=True)
