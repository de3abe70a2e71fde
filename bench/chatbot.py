"""Chatbot answers: 2,000,000 elements (200,000 conversations in 50 flows, ~10 keys each) over 24
hourly files; load + build + report, target < 120 s."""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from bench.common import scratch_warehouse, timed, warehouse

CONVERSATIONS = 200_000
FLOWS = 50
KEYS_PER_FLOW = 10
ELEMENTS_PER_CONVERSATION = 10
HOURS = 24
START = datetime(2019, 12, 16, tzinfo=UTC)
# written offset -> its zone: the same instants arrive with different offsets
ZONES = {
    "+00:00": UTC,
    "Z": UTC,
    "-03:00": timezone(timedelta(hours=-3)),
    "+05:30": timezone(timedelta(hours=5, minutes=30)),
}


def _value(rng: random.Random, key_number: int) -> str:
    """Keys 0 and 1 of every flow are yes/no questions; the rest free text, CPFs, grades, blanks."""
    if key_number < 2:
        return rng.choice(["sim", "não", "Sim", "nao", "NÃO"])
    kind = key_number % 4
    if kind == 0:
        digits = f"{rng.randrange(10**11):011d}"
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"  # a CPF, leading zeros kept
    if kind == 1:
        return rng.choice(["maria", "joao", "ana", "pedro", "  ", "", "Simmmmmmm"])
    return str(rng.randrange(11))


def write_files(directory: Path) -> list[Path]:
    """24 files hour=00.json .. hour=23.json; a conversation's answers may cross an hour."""
    rng = random.Random(42)
    keys = [
        [f"pergunta {key:02d} do fluxo {flow}" if key % 3 else f"key_{key}" for key in range(KEYS_PER_FLOW)]
        for flow in range(FLOWS)
    ]
    hours: list[list[dict[str, object]]] = [[] for _ in range(HOURS)]
    for conversation in range(CONVERSATIONS):
        flow = conversation % FLOWS
        started = START + timedelta(seconds=rng.randrange(HOURS * 3600 - 600))
        for step in range(ELEMENTS_PER_CONVERSATION):
            at = started + timedelta(seconds=step * rng.randrange(1, 60))
            key_number = rng.randrange(KEYS_PER_FLOW)  # repeats: later answers overwrite earlier ones
            offset = rng.choice(list(ZONES))
            local = at.astimezone(ZONES[offset])
            hours[min(at.hour, HOURS - 1)].append(
                {
                    "customer": f"C{conversation % 20_000:05d}",
                    "flow": f"F{flow:03d}",
                    "session": f"S{conversation:07d}",
                    "timestamp": local.strftime("%Y-%m-%dT%H:%M:%S") + offset,
                    "content": {keys[flow][key_number]: _value(rng, key_number)},
                }
            )
    paths = []
    for hour, elements in enumerate(hours):
        path = directory / f"hour={hour:02d}.json"
        path.write_text(json.dumps(elements, ensure_ascii=False, indent=1))
        paths.append(path)
    return paths


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch, scratch_warehouse():
        with timed("generate 24 hourly files (not counted)"):
            paths = write_files(Path(scratch))
        elements = CONVERSATIONS * ELEMENTS_PER_CONVERSATION
        size = sum(path.stat().st_size for path in paths) / 1e6
        print(f"{elements:,} elements, {CONVERSATIONS:,} conversations, {FLOWS} flows, {size:,.0f} MB")
        started = time.perf_counter()
        with timed("load (parse + validate + COPY)", elements):
            warehouse("load", "chatbot", *paths)
        with timed("dbt build (models + tests + views)", elements):
            warehouse("build", "--quiet")
        with timed("report (text, every flow)", CONVERSATIONS):
            warehouse("report", "chatbot", stdout=subprocess.DEVNULL)
        total = time.perf_counter() - started
        verdict = "ok" if total < 120 else "MISSED"
        print(f"{'total load + build + report':<40} {total:8.2f} s  (target < 120 s: {verdict})")


if __name__ == "__main__":
    main()
