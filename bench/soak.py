"""Soak: `warehouse run` on a fresh embedded warehouse while `warehouse generate` produces at --rate
for --minutes, so that a leak or a cost growing with the topic shows as a trend.

Every minute one line: messages in the topic, rows landed that minute, the lag (the topic's ends
read apart, minus raw.kafka_offsets), panel freshness p50/p99 for a known customer and for new
ones, the minutely dbt runs that finished, the RSS of the service and the broker, the PSS of
PostgreSQL (all its processes, shared buffers counted once), CPU shares, and `warehouse status
--check`. Freshness: every PROBE_EVERY_S a marker event of the known customer (its panel row
exists) and one of a customer never seen before are produced, event time now; it is the time from
producing until the panel counts the marker (a marker still pending after PROBE_TIMEOUT_S counts as
that long). Target (issue 18): p99 <= 2 s for the known customer, flat lag and memory.

`make soak MINUTES=60 RATE=3500` (SOAK_MINUTES / SOAK_RATE work too).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
from confluent_kafka import Producer

from bench.common import WAREHOUSE_BIN, scratch_warehouse
from bench.service import MARKER, marker_event, percentile
from loader import PROJECT_DIR, broker, db
from loader.settings import Settings

CUSTOMERS = 5_000
PROBE_EVERY_S = 2.0
PROBE_TIMEOUT_S = 120.0
POLL_S = 0.1
NEW_CUSTOMER_IDS = 20_000_000  # above the generator's 7-digit ids
STARTUP_TIMEOUT_S = 300.0


@dataclass
class Probe:
    customer_id: int
    count: int  # what the customer's panel counts once the marker is in
    produced_at: float


@dataclass
class Probes:
    """Pending markers per kind, and the freshness of those counted since the last minute."""

    producer: Producer
    topic: str
    known_count: int = 0
    new_customers: int = 0
    pending: dict[str, list[Probe]] = field(default_factory=lambda: {"known": [], "new": []})
    seconds: dict[str, list[float]] = field(default_factory=lambda: {"known": [], "new": []})

    def send(self) -> None:
        self.known_count += 1
        self.new_customers += 1
        customer = (NEW_CUSTOMER_IDS + self.new_customers, f"Soak New {self.new_customers}")
        produced_at = time.perf_counter()
        for kind, event in (
            ("known", marker_event(self.known_count)),
            ("new", marker_event(self.new_customers, customer)),
        ):
            message = event.message()
            self.producer.produce(self.topic, message.value, message.key)
            count = 1 if kind == "new" else self.known_count
            self.pending[kind].append(Probe(event.customer_id, count, produced_at))
        self.producer.flush()

    def check(self, conn: psycopg.Connection) -> None:
        customer_ids = list({probe.customer_id for probes in self.pending.values() for probe in probes})
        if not customer_ids:
            return
        try:
            rows = conn.execute(
                "select customer_id, coalesce(sum(whatsapp_notifications), 0)"
                " from marts.rpt_notification_panel"
                " where customer_id = any(%s) and panel_date = (now() at time zone 'UTC')::date group by 1",
                (customer_ids,),
            ).fetchall()
        except psycopg.errors.UndefinedTable:  # before the service's first run
            return
        counts = dict(rows)
        now = time.perf_counter()
        for kind, probes in self.pending.items():
            still = []
            for probe in probes:
                if counts.get(probe.customer_id, 0) >= probe.count:
                    self.seconds[kind].append(now - probe.produced_at)
                elif now - probe.produced_at > PROBE_TIMEOUT_S:
                    self.seconds[kind].append(PROBE_TIMEOUT_S)
                else:
                    still.append(probe)
            self.pending[kind] = still

    def take(self, kind: str) -> list[float]:
        taken, self.seconds[kind] = self.seconds[kind], []
        return taken


class Usage:
    """CPU share since the last call and memory of a process tree (PSS when shared memory matters)."""

    def __init__(self, pid: int, *, tree: bool = False) -> None:
        self._root = psutil.Process(pid)
        self._tree = tree
        self._cpu = self._cpu_seconds()
        self._at = time.perf_counter()

    def _processes(self) -> list[psutil.Process]:
        return [self._root, *self._root.children(recursive=True)] if self._tree else [self._root]

    def _cpu_seconds(self) -> float:
        total = 0.0
        for process in self._processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def cpu_share(self) -> float:
        cpu, at = self._cpu_seconds(), time.perf_counter()
        # children that exited take their CPU time with them: never below zero
        share = max(0.0, cpu - self._cpu) / (at - self._at)
        self._cpu, self._at = cpu, at
        return share

    def memory_mb(self) -> float:
        total = 0
        for process in self._processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_full_info().pss if self._tree else process.memory_info().rss
        return total / 2**20


class Minutes:
    """One line per minute: what changed since the last one."""

    def __init__(
        self, conn: psycopg.Connection, topic_ends: broker.TopicEnds, usages: dict[str, Usage], probes: Probes
    ) -> None:
        self._conn, self._topic_ends, self._usages, self._probes = conn, topic_ends, usages, probes
        self._landed = 0
        row = conn.execute("select coalesce(max(run_id), 0) from ops.dbt_runs").fetchone()
        self._last_run_id = row[0] if row else 0

    def line(self) -> str:
        end = sum(self._topic_ends.read().values())
        row = self._conn.execute("select coalesce(sum(next_offset), 0) from raw.kafka_offsets").fetchone()
        landed = int(row[0]) if row else 0
        runs = self._conn.execute(
            "select run_id, extract(epoch from finished_at - started_at)::float8"
            " from ops.dbt_runs where kind = 'minutely' and is_success and run_id > %s order by run_id",
            (self._last_run_id,),
        ).fetchall()
        self._last_run_id = max([self._last_run_id, *(run_id for run_id, _ in runs)])
        seconds = [value for _, value in runs]
        run_text = f"{len(seconds)} x {max(seconds):.1f} max" if seconds else "none"
        cpu = "/".join(f"{usage.cpu_share():.0%}" for usage in self._usages.values())
        memory = " ".join(f"{usage.memory_mb():>8,.0f} MB" for usage in self._usages.values())
        text = (
            f"{end:>11,} {landed - self._landed:>9,} {max(0, end - landed):>9,}"
            f" {summary(self._probes.take('known')):>13} {summary(self._probes.take('new')):>13}"
            f" {run_text:>17} {memory} {cpu:>15}  {health()}"
        )
        self._landed = landed
        return text


def postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


def summary(values: list[float]) -> str:
    if not values:
        return f"{'-':>13}"
    return f"{statistics.median(values):>5.2f}/{percentile(values, 0.99):>6.2f}"


def health() -> str:
    result = subprocess.run(
        [str(WAREHOUSE_BIN), "status", "--check"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return "ok" if result.returncode == 0 else f"UNHEALTHY: {(result.stdout or result.stderr).strip()}"


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # SIGTERM (and SIGINT, which a shell ignores in background jobs) stop the soak, its service,
    # producer and scratch warehouse cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 60)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 3500)))
    parser.add_argument("--log", type=Path, default=PROJECT_DIR / "logs" / "soak-service.log")
    args = parser.parse_args()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    with scratch_warehouse() as home:
        settings = Settings.from_env()
        bootstrap = broker.resolve_bootstrap(settings)
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        topic_ends = broker.TopicEnds(bootstrap, settings.kafka.topic)
        with args.log.open("wb") as log:
            service = subprocess.Popen([str(WAREHOUSE_BIN), "run"], cwd=PROJECT_DIR, stdout=log, stderr=log)
        broker_pid = broker.running_pid(home)
        assert broker_pid is not None
        usages = {
            "service": Usage(service.pid),
            "broker": Usage(broker_pid),
            "postgres": Usage(postmaster_pid(home), tree=True),
        }
        conn = db.connect(settings, autocommit=True)
        probes = Probes(producer, settings.kafka.topic)
        generator = None
        try:
            probes.send()
            started = time.perf_counter()
            while probes.pending["known"]:
                if time.perf_counter() - started > STARTUP_TIMEOUT_S:
                    raise SystemExit(
                        f"the panel did not count the first marker within {STARTUP_TIMEOUT_S:.0f} s"
                    )
                time.sleep(POLL_S)
                probes.check(conn)
            for kind in probes.seconds:
                probes.take(kind)
            up_s = time.perf_counter() - started
            print(f"service up, the known customer {MARKER[0]} on the panel after {up_s:.1f} s")
            generator = subprocess.Popen(
                [
                    str(WAREHOUSE_BIN),
                    "generate",
                    "--rate",
                    str(args.rate),
                    "--duration",
                    str(args.minutes * 60),
                    "--customers",
                    str(CUSTOMERS),
                ],
                cwd=PROJECT_DIR,
                stdout=subprocess.PIPE,
                text=True,
            )
            print(
                f"{'min':>4} {'topic':>11} {'landed':>9} {'lag':>9} {'known p50/p99':>13} {'new p50/p99':>13}"
                f" {'minutely runs s':>17} {'RSS service':>11} {'broker':>11} {'PG PSS':>11}"
                f" {'CPU svc/brk/pg':>15}  health",
                flush=True,
            )
            minutes = Minutes(conn, topic_ends, usages, probes)
            minute = 0
            load_started = next_probe = next_minute = time.perf_counter()
            next_minute += 60
            while generator.poll() is None:
                now = time.perf_counter()
                if now >= next_probe:
                    probes.send()
                    next_probe += PROBE_EVERY_S
                probes.check(conn)
                if now >= next_minute:
                    minute += 1
                    next_minute += 60
                    print(f"{minute:>4} {minutes.line()}", flush=True)
                time.sleep(POLL_S)
            assert generator.stdout is not None
            print(generator.stdout.read().strip())
            print(f"load over {(time.perf_counter() - load_started) / 60:.1f} min at {args.rate:,.0f}/s")
        finally:
            if generator is not None and generator.poll() is None:
                generator.terminate()
                generator.wait()
            service.send_signal(signal.SIGTERM)
            exit_code = service.wait(120)
            topic_ends.close()
            del probes, producer  # before the broker stops: librdkafka would keep reconnecting
            conn.close()
        print(f"service exit code after SIGTERM: {exit_code}; its log: {args.log}")
        print(f"load average (1/5/15 min) at the end: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
