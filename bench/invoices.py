"""Invoices: 1,000,000 rows (100,000 accounts x 10 months) load + build + report; target < 60 s."""

from __future__ import annotations

import random
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import scratch_warehouse, timed, warehouse

ACCOUNTS = 100_000
MONTHS = 10


def write_invoices(path: Path) -> int:
    rng = random.Random(42)
    rows = [
        f"C{account // 10:06d},A{account:07d},2020-{month:02d}-01,{rng.randint(0, 10_000_000) / 100:.2f}\n"
        for account in range(ACCOUNTS)
        for month in range(1, MONTHS + 1)
    ]
    rng.shuffle(rows)
    path.write_text("customer,account,month,invoice\n" + "".join(rows))
    return len(rows)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch, scratch_warehouse():
        csv_path = Path(scratch) / "invoices.csv"
        rows = write_invoices(csv_path)
        print(f"{rows:,} invoice rows, {ACCOUNTS:,} accounts x {MONTHS} months")
        started = time.perf_counter()
        with timed("load (validate + COPY)", rows):
            warehouse("load", "invoices", csv_path)
        with timed("dbt build (models + tests)", rows):
            warehouse("build", "--quiet")
        with timed("report (csv, every account)", ACCOUNTS):
            warehouse("report", "invoices", "--format", "csv", stdout=subprocess.DEVNULL)
        total = time.perf_counter() - started
        verdict = "ok" if total < 60 else "MISSED"
        print(f"{'total load + build + report':<40} {total:8.2f} s  (target < 60 s: {verdict})")


if __name__ == "__main__":
    main()
