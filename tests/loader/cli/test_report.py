"""`warehouse report`: what stops a report is one line on stderr, never a traceback; options
refused before anything is read."""

from __future__ import annotations

import subprocess

import pytest

from loader import PROJECT_DIR
from tests.conftest import WAREHOUSE_BIN, run_warehouse
from tests.notifications_helpers import event, land_events

REPORTS = [
    ("panel",),
    ("billing", "--date", "2020-02-03"),
    ("detail", "--customer", "Acme"),
    ("invoices",),
    ("chatbot",),
]


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 or lines[0].startswith("usage:"), result.stderr
    return lines[-1]


def test_reports_before_or_after_a_failed_build_say_what_to_do(conn):
    for report in REPORTS:
        line = _one_error_line(run_warehouse("report", *report, check=False))
        assert "not built" in line and "warehouse build" in line, (report, line)

    land_events(conn, [event()])
    run_warehouse("build", "--quiet", "--select", "+rpt_notification_panel", "--exclude", "test_type:unit")
    conn.execute("drop view marts.rpt_notification_panel")  # as a build that failed half-way leaves it
    line = _one_error_line(run_warehouse("report", "panel", check=False))
    assert 'relation "marts.rpt_notification_panel" does not exist' in line and "warehouse build" in line


def test_bad_options_closed_stdout_and_output_files(conn, tmp_path):
    # 3,000 messages on Feb 3 from 14:00, one a second: more text than a pipe holds
    land_events(conn, [event(message_id=f"M-{n}", event_datetime=f"2020-02-03T14:{n // 60:02}:{n % 60:02}Z")
                       for n in range(3_000)])  # fmt: skip
    run_warehouse("build", "--quiet", "--select", "+rpt_notification_panel", "--exclude", "test_type:unit")

    line = _one_error_line(run_warehouse("report", "panel", "--customer", "²", check=False))
    assert line == "error: no customer with id or name '²' in the notifications"
    line = _one_error_line(run_warehouse("report", "detail", "--customer", "9" * 5_000, check=False))
    assert line.startswith("error: no customer with id or name '99999") and len(line) < 120

    # an offset PostgreSQL cannot store (+23:59) is the same instant in UTC: 14:01 the day before
    far_east = run_warehouse("report", "detail", "--customer", "Acme", "--from", "2020-02-04T14:00+23:59",
                             "--to", "2020-02-04T14:10+23:59", "--format", "csv").stdout  # fmt: skip
    utc = run_warehouse("report", "detail", "--customer", "Acme", "--from", "2020-02-03T14:01Z",
                        "--to", "2020-02-03T14:11Z", "--format", "csv").stdout  # fmt: skip
    assert far_east == utc and len(far_east.splitlines()) == 601

    # stdout closed early: quiet, with the exit status of a process SIGPIPE ended
    with subprocess.Popen(
        [str(WAREHOUSE_BIN), "report", "detail", "--customer", "Acme"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=PROJECT_DIR,
    ) as head:
        assert head.stdout is not None and head.stderr is not None
        assert head.stdout.readline() == "Relatório Detalhado de Notificações\n".encode()
        head.stdout.close()
        stderr = head.stderr.read().decode()
    assert head.returncode == 141 and stderr == ""

    # --output: a missing folder, a folder; a failed run leaves an existing file as it was
    line = _one_error_line(
        run_warehouse(
            "report", "detail", "--customer", "Acme", "--output", tmp_path / "no" / "x.csv", check=False
        )
    )
    assert line == f"error: --output {tmp_path}/no/x.csv: the folder {tmp_path}/no does not exist"
    line = _one_error_line(
        run_warehouse("report", "detail", "--customer", "Acme", "--output", tmp_path, check=False)
    )
    assert line == f"error: --output {tmp_path} is a folder: name a file"
    export = tmp_path / "acme.csv"
    run_warehouse("report", "detail", "--customer", "Acme", "--format", "csv", "--output", export)
    exported = export.read_text()
    assert len(exported.splitlines()) == 3_001
    conn.execute("drop table marts.fct_notifications cascade")
    failed = run_warehouse(
        "report", "detail", "--customer", "Acme", "--format", "csv", "--output", export, check=False
    )
    assert "not built" in _one_error_line(failed)
    assert export.read_text() == exported
    assert [path.name for path in tmp_path.iterdir()] == ["acme.csv"]


@pytest.mark.parametrize(
    "args",
    [("panel", "--customer", ""), ("billing", "--customer", " "), ("detail", "--customer", "")],
)
def test_an_empty_customer_is_refused_not_read_as_every_customer(args):
    result = run_warehouse("report", *args, check=False)
    assert result.returncode == 2
    assert "--customer: a customer id or name must not be empty" in result.stderr
    assert "Traceback" not in result.stderr
