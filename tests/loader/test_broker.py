"""`warehouse up/env/down` run the embedded Kafka broker unless KAFKA_BOOTSTRAP_SERVERS is set."""

from __future__ import annotations

import json
import re
from contextlib import closing
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from loader import broker
from tests.conftest import run_warehouse


def _bootstrap_from_env_output(stdout: str) -> str | None:
    found = re.search(r"^KAFKA_BOOTSTRAP_SERVERS=(\S+)$", stdout, re.MULTILINE)
    return found.group(1) if found else None


def _pid(home: Path) -> int:
    return json.loads((home / "broker" / "broker.json").read_text())["pid"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_up_starts_the_broker_with_the_topic_and_down_stops_it(
    warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    try:
        run_warehouse("up")
        bootstrap = _bootstrap_from_env_output(run_warehouse("env").stdout)
        assert bootstrap is not None and bootstrap == broker.bootstrap_servers(tmp_path)
        consumer = KafkaConsumer(bootstrap_servers=bootstrap)
        with closing(consumer):
            assert consumer.partitions_for_topic("notifications") == {0, 1, 2, 3}

        pid = _pid(tmp_path)
        run_warehouse("up")  # idempotent: the same broker
        assert _pid(tmp_path) == pid

        run_warehouse("down")
        assert not _alive(pid)
        assert broker.bootstrap_servers(tmp_path) is None
        env = run_warehouse("env")
        assert _bootstrap_from_env_output(env.stdout) is None
        assert "the embedded broker" in env.stderr and "is not running" in env.stderr
    finally:
        broker.stop(tmp_path, purge=True)


def test_an_existing_cluster_is_used_as_is(kafka, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_TOPIC", "created-by-up")

    run_warehouse("up")

    assert broker.bootstrap_servers(tmp_path) is None  # nothing embedded started
    env = run_warehouse("env").stdout
    assert _bootstrap_from_env_output(env) == kafka.kafka.bootstrap_servers
    consumer = KafkaConsumer(bootstrap_servers=kafka.kafka.bootstrap_servers)
    with closing(consumer):
        assert consumer.partitions_for_topic("created-by-up") == {0, 1, 2, 3}
