"""The portal at the 10M-events/day size, over HTTP against a real `warehouse serve`.

The database of bench/notifications.py (10,000,000 events of one day from 10,000 customers, one of
them sending 10%), then a minute of the next day rolled up and half a minute in the raw tail, the
first day billed. Figures: the panel page and the panel API, p99 <= 50 ms; 200 requests/s of mixed
customer traffic for 60 s, zero errors and p99 <= 100 ms; the CSV export over HTTP >= 200,000
rows/s with the server's memory flat.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

import httpx

from bench.common import WAREHOUSE_BIN, scratch_warehouse, timed
from bench.notifications import DAY_EVENTS, MINUTE_EVENTS, figure, land, land_day_in_bulk, minutely
from loader import PROJECT_DIR, cli, db, dbt
from loader.cli import portal
from loader.settings import Settings

TAIL_EVENTS = 150_000
CUSTOMERS = 30  # besides the big one
SEQUENTIAL_REQUESTS = 600  # per endpoint
RATE = 200  # requests/s of the mixed traffic
CONNECTIONS = 32  # of the mixed traffic's client
DURATION_S = 60
BIG_CUSTOMER = 1
SECRET = "bench-secret-of-the-portal-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    """The server's resident memory every 50 ms, while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.samples.append(_rss_mb(self.pid))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _spread(latencies: list[float]) -> str:
    return (
        f"p50 {statistics.median(latencies):.1f} ms, p99 {_percentile(latencies, 0.99):.1f} ms,"
        f" max {max(latencies):.1f} ms"
    )


def _sequential(client: httpx.Client, urls: list[str]) -> list[float]:
    client.get(urls[0])  # warm
    latencies = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    return latencies


def _mixed_paths(tokens: list[str], rng: random.Random) -> list[str]:
    """One second's worth of customer traffic: the live panel polling its API most, pages, the
    detailed report's first and later pages, the bills, the static assets a browser asks for."""
    mix = [
        *["/api/panel"] * 8,
        *["/"] * 3,
        "/panel?date=2020-02-03",
        *["/detail"] * 2,
        "/api/detail?from=2020-02-03T00:00:00Z&page=3",
        "/bills",
        "/api/bills",
        "/api/panel?date=2020-02-03",
    ]
    statics = ["/static/portal.css", "/static/portal.js"]
    paths = []
    for number in range(RATE):
        if number % 20 >= len(mix):
            paths.append(statics[number % 2])
        else:
            paths.append(f"/portal/{rng.choice(tokens)}{mix[number % 20]}")
    return paths


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
    """One keep-alive HTTP/1.1 GET on an open connection; returns the status (the body is read)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return status


async def _mixed(
    port: int, paths: list[str]
) -> tuple[list[float], list[float], list[str], dict[str, list[float]]]:
    """Open loop: request i is due at i / RATE s; CONNECTIONS keep-alive connections take the
    requests in order as they fall due. Latency from the due time (a request that waited for a
    free connection counts against the figure) and from the actual send, the latter also per kind
    of request (the path without its token). (A hand-written client:
    httpx's pool costs more CPU per request than the server at this rate on 2 cores.)"""
    scheduled_latencies: list[float] = []
    sent_latencies: list[float] = []
    errors: list[str] = []
    by_kind: dict[str, list[float]] = {}
    queue = list(enumerate(paths))
    queue.reverse()
    started = time.perf_counter()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                number, path = queue.pop()
                due = started + number / RATE
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                sent = time.perf_counter()
                try:
                    status = await asyncio.wait_for(_get(reader, writer, path), timeout=10)
                    if status != 200:
                        errors.append(f"HTTP {status} {path}")
                except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
                    errors.append(f"{type(error).__name__} {path}")
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                done = time.perf_counter()
                scheduled_latencies.append((done - due) * 1000)
                sent_latencies.append((done - sent) * 1000)
                kind = path.split("/", 3)[3] if path.startswith("/portal/") else path
                by_kind.setdefault(kind, []).append((done - sent) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return scheduled_latencies, sent_latencies, errors, by_kind


def _serve(port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WAREHOUSE_PORTAL_SECRET": SECRET}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(WAREHOUSE_BIN), "serve", "--port", str(port)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"warehouse serve did not start:\n{log.read_text()}")


def main() -> None:
    with scratch_warehouse() as home:
        settings = Settings.from_env()
        session = dbt.Session(settings)
        if not session.invoke(["build", "--quiet"]):
            raise SystemExit("dbt build failed")
        with timed(f"land {DAY_EVENTS:,} events of a day (SQL)", DAY_EVENTS):
            land_day_in_bulk(settings)
        with timed("minutely run: the whole day", DAY_EVENTS):
            minutely(session)
        land(settings, DAY_EVENTS, MINUTE_EVENTS, "2020-02-04T00:00:00Z", "200 microseconds")
        minutely(session)
        land(settings, DAY_EVENTS + MINUTE_EVENTS, TAIL_EVENTS, "2020-02-04T00:01:00Z", "200 microseconds")
        with db.connect(settings, autocommit=True) as conn:
            conn.execute("vacuum analyze")
            conn.execute("checkpoint")
        # and the kernel writes the checkpoint's gigabytes back now, not under the measured traffic
        os.sync()
        if cli.main(["bill", "--date", "2020-02-03"]) != 0:
            raise SystemExit("billing failed")

        os.environ["WAREHOUSE_PORTAL_SECRET"] = SECRET
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        os.environ["WAREHOUSE_PORTAL_URL"] = base
        process = _serve(port, home / "serve.log")
        try:
            rng = random.Random(14)
            ids = [BIG_CUSTOMER, *rng.sample(range(2, 10_001), CUSTOMERS)]
            tokens = [portal.link(settings, customer=str(number))[0].rsplit("/", 1)[1] for number in ids]
            with httpx.Client(timeout=30) as client:
                for label, path in (("panel page", "/"), ("panel API", "/api/panel")):
                    urls = [
                        f"{base}/portal/{tokens[n % len(tokens)]}{path}" for n in range(SEQUENTIAL_REQUESTS)
                    ]
                    latencies = _sequential(client, urls)
                    figure(
                        f"{label}, {len(tokens)} customers x{SEQUENTIAL_REQUESTS}",
                        _spread(latencies),
                        "p99 <= 50 ms",
                        _percentile(latencies, 0.99) <= 50,
                    )

            paths = [path for _ in range(DURATION_S) for path in _mixed_paths(tokens, rng)]
            sampler = RssSampler(process.pid)
            sampler.start()
            started = time.perf_counter()
            scheduled, sent, errors, by_kind = asyncio.run(_mixed(port, paths))
            elapsed = time.perf_counter() - started
            sampler.stop.set()
            figure(
                f"mixed traffic, {RATE} req/s x {DURATION_S} s ({len(paths):,} requests, {elapsed:.1f} s)",
                f"{len(errors)} errors, {_spread(scheduled)} (from the send: {_spread(sent)});"
                f" server RSS max {max(sampler.samples):.0f} MB",
                "0 errors, p99 <= 100 ms",
                not errors and _percentile(scheduled, 0.99) <= 100,
            )
            for error in errors[:5]:
                print(f"  {error}")
            slowest = sorted(by_kind.items(), key=lambda item: -_percentile(item[1], 0.99))[:3]
            for kind, latencies in slowest:
                print(f"  slowest kinds from the send: /{kind}: {_spread(latencies)}")

            export = f"{base}/portal/{tokens[0]}/detail.csv?from=2020-02-03T00:00:00Z&to=2020-02-04T00:00:00Z"
            sampler = RssSampler(process.pid)
            before = _rss_mb(process.pid)
            sampler.start()
            rows = -1  # the header
            size = 0
            started = time.perf_counter()
            with httpx.stream("GET", export, timeout=120) as response:
                for chunk in response.iter_bytes(256 * 1024):
                    rows += chunk.count(b"\n")
                    size += len(chunk)
            elapsed = time.perf_counter() - started
            sampler.stop.set()
            sampler.join()
            peak = max(sampler.samples, default=before)
            figure(
                "detail CSV export over HTTP, the big customer's day",
                f"{rows / elapsed:,.0f} rows/s ({rows:,} rows, {size / 1e6:,.0f} MB in {elapsed:.2f} s);"
                f" server RSS {before:.0f} MB before, {peak:.0f} MB peak",
                ">= 200,000 rows/s, flat memory",
                rows / elapsed >= 200_000 and peak - before < 50,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
