"""The timescale target without a TimescaleDB (no Docker engine here): the project is compiled for it
against the embedded PostgreSQL and the statements it generates are checked. PostgreSQL checks what
it can without the extension: every generated statement parses (CREATE FUNCTION validates a PL/pgSQL
body, embedded SQL included, without running it), and the parts that need no TimescaleDB run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests.conftest import fresh_warehouse, run_warehouse

RAW_RETENTION_DAYS = "45"  # not the default: shows that the environment reaches the policy
DETAIL_RETENTION_DAYS = "36500"  # covers the billed day of 2020; the default 90 would not
BILLING_DATE = "2020-02-03"
ROLLUP = "model.warehouse.fct_notifications_per_minute"
ROLLUP_PATH = "marts/notifications/timescale/fct_notifications_per_minute.sql"
ROLLUP_REGCLASS = '\'"marts"."fct_notifications_per_minute"\''
ROLLUP_COLUMNS = ["customer_id", "channel", "minute_at", "notification_count"]
SEGMENT = re.compile(r"^-- @@(\w+)\n", re.MULTILINE)
DO_BLOCK = re.compile(r"\bdo (\$\w+\$)(.*?)\1", re.DOTALL)

# Every TimescaleDB statement, rendered for the project's relations and configuration, one segment
# each (`-- @@name`). __COMPILED_ROLLUP__ is replaced by the rollup's compiled query.
RENDER = """
{%- set rollup = graph.nodes['model.warehouse.fct_notifications_per_minute'] -%}
{%- set facts = graph.nodes['model.warehouse.fct_notifications'] -%}
{%- set rollup_relation = api.Relation.create(
    database=rollup.database, schema=rollup.schema, identifier=rollup.alias
) -%}
{%- set hypertable = facts.config.timescale_hypertable -%}
{%- set end_offset = rollup.config.refresh_end_offset -%}
{%- set compiled_rollup -%}
__COMPILED_ROLLUP__
{%- endset %}
-- @@raw_setup
{{ timescale_setup_raw_sql() }}
-- @@facts_hypertable
{{ timescale_create_hypertable_sql(
    ref('fct_notifications'),
    hypertable.time_column,
    timescale_duration(hypertable.chunk_time_interval, 'chunk_time_interval').sql,
) }}
-- @@facts_policies
{{ timescale_compression_and_retention_sql(
    ref('fct_notifications'),
    hypertable.compress_segmentby,
    hypertable.compress_orderby,
    timescale_duration(hypertable.compress_after, 'compress_after'),
    timescale_days(hypertable.retention_days, 'retention_days'),
) }}
-- @@facts_conflict_columns
{{ timescale_conflict_columns(facts.config.unique_key, hypertable) }}
-- @@conflict_columns_without_time
{{ timescale_conflict_columns(['message_id'], hypertable) }}
-- @@rollup_create
{{ timescale_create_continuous_aggregate_sql(rollup_relation, compiled_rollup) }}
-- @@rollup_settings
{{ timescale_continuous_aggregate_settings_sql(
    rollup_relation,
    rollup.config.refresh_start_offset,
    end_offset,
    rollup.config.refresh_schedule_interval,
) }}
-- @@rollup_initial_refresh
{{ timescale_refresh_sql(rollup_relation, 'null', timescale_refresh_window_end(end_offset)) }}
-- @@rollup_billing_refresh
{{ timescale_refresh_billing_day(rollup_relation, end_offset) }}
-- @@window_utc
{{ timescale_day_refresh_window_sql("cast('2020-02-03' as date)", "'UTC'", end_offset) }}
-- @@window_sao_paulo
{{ timescale_day_refresh_window_sql("cast('2020-02-03' as date)", "'America/Sao_Paulo'", end_offset) }}
-- @@window_expired
{{ timescale_day_refresh_window_sql("cast(timezone('UTC', now()) as date) - 36501", "'UTC'", end_offset) }}
-- @@window_tomorrow
{{ timescale_day_refresh_window_sql("cast(timezone('UTC', now()) as date) + 1", "'UTC'", end_offset) }}
-- @@window_end
select {{ timescale_refresh_window_end(end_offset) }}
-- @@unique_keys_raw
do $test$ begin
{{ timescale_unique_keys_with_time_column_sql(source('notifications', 'notification_events'), 'loaded_at') }}
end $test$
-- @@unique_keys_scratch
do $test$ begin
{{ timescale_unique_keys_with_time_column_sql(
    api.Relation.create(schema='public', identifier='scratch'), 'at'
) }}
end $test$
"""


@dataclass(frozen=True)
class TimescaleProject:
    dsn: str
    manifest: dict
    compiled: Path
    sql: dict[str, str]

    def compiled_model(self, path: str) -> str:
        return (self.compiled / "warehouse" / "models" / path).read_text()


def dbt(target_path: Path, *args: str) -> str:
    return run_warehouse("exec", "--", "dbt", "--quiet", *args, "--target-path", target_path).stdout


@pytest.fixture(scope="module")
def project(server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimescaleProject]:
    target_path = tmp_path_factory.mktemp("target")
    with pytest.MonkeyPatch.context() as env, fresh_warehouse(server_dsn, env) as settings:
        env.setenv("WAREHOUSE_DBT_TARGET", "timescale")
        env.setenv("RAW_RETENTION_DAYS", RAW_RETENTION_DAYS)
        env.setenv("DETAIL_RETENTION_DAYS", DETAIL_RETENTION_DAYS)
        models = ["fct_notifications_per_minute", "int_notification_tail_ranges"]
        dbt(target_path, "compile", "--select", *models)
        compiled = target_path / "compiled"
        render = RENDER.replace(
            "__COMPILED_ROLLUP__", (compiled / "warehouse/models" / ROLLUP_PATH).read_text()
        )
        billing_date = f"{{billing_date: '{BILLING_DATE}'}}"
        output = dbt(target_path, "compile", "--vars", billing_date, "--inline", render)
        parts = SEGMENT.split(output)[1:]
        yield TimescaleProject(
            dsn=settings.dsn or "",
            manifest=json.loads((target_path / "manifest.json").read_text()),
            compiled=compiled,
            sql={name: text.strip() for name, text in zip(parts[::2], parts[1::2], strict=True)},
        )


def flat(sql: str) -> str:
    return " ".join(sql.split())


def test_rollup_is_a_real_time_continuous_aggregate_of_the_same_shape(project):
    rollup = project.manifest["nodes"][ROLLUP]
    assert rollup["original_file_path"] == f"models/{ROLLUP_PATH}"
    assert rollup["config"]["materialized"] == "continuous_aggregate"
    disabled = [node["original_file_path"] for node in project.manifest["disabled"][ROLLUP]]
    assert disabled == ["models/marts/notifications/fct_notifications_per_minute.sql"]

    query = project.compiled_model(ROLLUP_PATH)
    select_list = query[query.index("select") + len("select") : query.index("from")]
    aliases = [item.split()[-1] for item in select_list.split(",\n")]
    assert aliases == ROLLUP_COLUMNS == list(rollup["columns"])  # the columns the yml documents for both
    # bucketed on the hypertable's time column; count(*) is exact: fct_notifications holds each message once
    assert "time_bucket(interval '1 minute', event_at) as minute_at" in query
    assert re.search(r'count\(\*\) as notification_count\s+from "\w+"\."marts"\."fct_notifications"\s', query)
    assert "distinct" not in query and "with" not in query  # neither is allowed in a continuous aggregate

    assert project.sql["rollup_create"] == (
        'create materialized view "marts"."fct_notifications_per_minute"\n'
        "with (timescaledb.continuous, timescaledb.materialized_only = false) as\n"
        f"{query.strip()}\nwith no data"
    )
    # the postgres rollup's unit test (offset increments) is replaced by a timescale one
    unit_tests = [name.rsplit(".", 1)[1] for name in project.manifest["unit_tests"] if ROLLUP[6:] in name]
    assert unit_tests == ["test_fct_notifications_per_minute__timescale_counts_by_minute"]


def test_refresh_policy_and_every_refresh_leave_the_open_minute_out(project):
    settings = flat(project.sql["rollup_settings"])
    assert "set (timescaledb.materialized_only = false)" in settings
    assert (
        f"perform add_continuous_aggregate_policy({ROLLUP_REGCLASS}, start_offset => interval '3 hours',"
        " end_offset => interval '2 minutes', schedule_interval => interval '1 minute');"
    ) in settings
    assert project.sql["rollup_initial_refresh"] == (
        f"call refresh_continuous_aggregate({ROLLUP_REGCLASS}, null,"
        " date_trunc('minute', now()) - interval '2 minutes')"
    )
    with psycopg.connect(project.dsn) as conn:
        (window_end,) = conn.execute(project.sql["window_end"]).fetchone()
        (open_minute,) = conn.execute("select date_trunc('minute', now())").fetchone()
    assert window_end.second == 0 and window_end.microsecond == 0  # a bucket boundary
    assert (open_minute - window_end).total_seconds() == 120  # behind the open minute, never ahead of now

    # `warehouse bill` (var billing_date) first refreshes the billed day, late events included
    billing = re.fullmatch(
        rf"call refresh_continuous_aggregate\({re.escape(ROLLUP_REGCLASS)}, "
        r"cast\('([^']+)' as timestamptz\), cast\('([^']+)' as timestamptz\)\)",
        project.sql["rollup_billing_refresh"],
    )
    assert billing is not None, project.sql["rollup_billing_refresh"]
    assert [datetime.fromisoformat(bound) for bound in billing.groups()] == [
        datetime(2020, 2, 3, tzinfo=UTC),
        datetime(2020, 2, 4, tzinfo=UTC),
    ]


def test_billed_day_window_follows_the_day_time_zone_and_never_reaches_the_open_minute(project):
    def window(name: str) -> tuple:
        query = (
            "select cast(window_start as timestamptz), cast(window_end as timestamptz), is_refreshable"
            f" from ({project.sql[name]}) as refresh_window"
        )
        with psycopg.connect(project.dsn) as conn:
            return conn.execute(query).fetchone()

    assert window("window_utc") == (datetime(2020, 2, 3, tzinfo=UTC), datetime(2020, 2, 4, tzinfo=UTC), True)
    assert window("window_sao_paulo") == (
        datetime(2020, 2, 3, 3, tzinfo=UTC),
        datetime(2020, 2, 4, 3, tzinfo=UTC),
        True,
    )
    # tomorrow is above the refresh window: nothing to materialize (real-time aggregation reads it)
    assert window("window_tomorrow")[2] is False
    # a day past the detail retention: a refresh would replace its minutes with what is left of it
    assert window("window_expired")[2] is False


def test_raw_events_become_a_compressed_hypertable_with_retention(project):
    setup = flat(project.sql["raw_setup"])
    assert setup.startswith("create extension if not exists timescaledb;")
    assert (
        'perform create_hypertable( \'"raw"."notification_events"\','
        " by_range('loaded_at', interval '1 day'), migrate_data => true );"
    ) in setup
    assert (
        'alter table "raw"."notification_events" set ( timescaledb.compress,'
        " timescaledb.compress_segmentby = 'kafka_topic, kafka_partition',"
        " timescaledb.compress_orderby = 'kafka_offset' );"
    ) in setup
    assert (
        'perform add_compression_policy(\'"raw"."notification_events"\','
        " compress_after => interval '3 days');"
    ) in setup
    assert (
        'perform add_retention_policy(\'"raw"."notification_events"\','
        f" drop_after => interval '{RAW_RETENTION_DAYS} days');"
    ) in setup


def test_facts_become_a_hypertable_on_event_at_and_the_tail_follows_them(project):
    facts = project.manifest["nodes"]["model.warehouse.fct_notifications"]
    hypertable = facts["config"]["timescale_hypertable"]
    assert hypertable == {
        "time_column": "event_at",
        "chunk_time_interval": "1 day",
        "compress_segmentby": "customer_id",
        "compress_orderby": "event_at, message_id",
        "compress_after": "3 days",
        "retention_days": DETAIL_RETENTION_DAYS,
    }
    policies = flat(project.sql["facts_policies"])
    assert (
        'alter table "marts"."fct_notifications" set ( timescaledb.compress,'
        " timescaledb.compress_segmentby = 'customer_id',"
        " timescaledb.compress_orderby = 'event_at, message_id' );"
    ) in policies
    assert (
        'perform add_compression_policy(\'"marts"."fct_notifications"\','
        " compress_after => interval '3 days');"
    ) in policies
    assert (
        'perform add_retention_policy(\'"marts"."fct_notifications"\','
        f" drop_after => interval '{DETAIL_RETENTION_DAYS} days');"
    ) in policies
    # the continuous aggregate over it is never rebuilt: its old minutes exist nowhere else
    assert project.manifest["nodes"][ROLLUP]["config"]["full_refresh"] is False
    hooks = [hook["sql"] for hook in facts["config"]["post-hook"]]
    assert {"{{ timescale_hypertable() }}", "{{ daily_partitions() }}"} <= set(hooks)
    assert facts["config"]["full_refresh"] is False  # raw keeps RAW_RETENTION_DAYS: never rebuild from it
    assert (
        'perform create_hypertable( \'"marts"."fct_notifications"\','
        " by_range('event_at', interval '1 day'), migrate_data => true );"
    ) in flat(project.sql["facts_hypertable"])
    # it upserts (ON CONFLICT checks the one chunk a row goes to) on its key, which holds event_at as a
    # hypertable's unique index must; a key without the time column would gain it
    assert facts["config"]["incremental_strategy"] == "upsert"
    assert project.sql["facts_conflict_columns"] == "['customer_id', 'event_at', 'message_id']"
    assert project.sql["conflict_columns_without_time"] == "['message_id', 'event_at']"
    # the real-time rollup covers what fct_notifications processed: the raw tail starts there
    tail = project.compiled_model("intermediate/notifications/int_notification_tail_ranges.sql")
    assert "where model_name = 'fct_notifications'\n" in tail


def test_generated_statements_parse_in_postgresql(project):
    """A syntax error would otherwise surface only on a live TimescaleDB."""
    statements = [
        "raw_setup",
        "facts_hypertable",
        "facts_policies",
        "rollup_create",
        "rollup_settings",
        "rollup_initial_refresh",
        "rollup_billing_refresh",
    ]
    with psycopg.connect(project.dsn, autocommit=True) as conn:
        conn.execute("set check_function_bodies = on")
        for name in statements:
            sql = project.sql[name]
            bodies = DO_BLOCK.findall(sql)
            assert bodies or name not in {"raw_setup", "facts_hypertable", "rollup_settings"}
            plain = DO_BLOCK.sub("null", sql).rstrip().removesuffix(";")
            for tag, body in [*bodies, ("$plain$", f"begin\n{plain};\nend")]:
                try:
                    conn.execute(
                        "create or replace function pg_temp.syntax_check() returns void"
                        f" language plpgsql as {tag}{body}{tag}"
                    )
                except psycopg.errors.SyntaxError as error:
                    pytest.fail(f"{name}: {error}")


def test_unique_keys_gain_the_time_column(project):
    def unique_keys(conn: psycopg.Connection, table: str) -> dict[str, str]:
        rows = conn.execute(
            "select indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index"
            " where indrelid = %s::regclass and indisunique order by 1",
            (table,),
        )
        return {name: definition.split(" USING btree ")[1] for name, definition in rows}

    with psycopg.connect(project.dsn, autocommit=True) as conn:
        conn.execute(
            "create table public.scratch (id int primary key, code text unique, at timestamptz not null);"
            " create unique index scratch_pair on public.scratch (id, code);"
            " create unique index scratch_timed on public.scratch (code, at);"
            " create index scratch_plain on public.scratch (code)"
        )
        for _ in range(2):  # the second run finds nothing to change
            conn.execute(project.sql["unique_keys_raw"])
            conn.execute(project.sql["unique_keys_scratch"])
            assert unique_keys(conn, "raw.notification_events") == {
                "raw.notification_events_pkey": "(kafka_topic, kafka_partition, kafka_offset, loaded_at)"
            }
            assert unique_keys(conn, "public.scratch") == {
                "scratch_code_key": "(code, at)",
                "scratch_pair": "(id, code, at)",
                "scratch_pkey": "(id, at)",
                "scratch_timed": "(code, at)",
            }
        (constraints,) = conn.execute(
            "select array_agg(contype::text order by conname) from pg_constraint"
            " where conrelid = 'public.scratch'::regclass and contype in ('p', 'u')"
        ).fetchone()
        assert constraints == ["u", "p"]  # constraints stay constraints
        conn.execute("create unique index scratch_lower on public.scratch (lower(code))")
        refused = "add column at to its unique index scratch_lower"
        with pytest.raises(psycopg.errors.RaiseException, match=refused):
            conn.execute(project.sql["unique_keys_scratch"])


def test_refreshes_run_outside_a_transaction_after_the_commit(warehouse, monkeypatch, tmp_path):
    """refresh_continuous_aggregate refuses transaction blocks, like VACUUM: a statement issued
    after dbt's commit (the materialization's and the after-commit hooks' position) is outside one."""
    monkeypatch.setenv("WAREHOUSE_DBT_TARGET", "timescale")
    work = "{% call statement('work') %} select 1 {% endcall %}"
    vacuum = "{% call statement('vacuum', auto_begin=False) %} vacuum raw.kafka_offsets {% endcall %}done"
    after_commit = work + "{% do adapter.commit() %}" + vacuum
    assert dbt(tmp_path, "compile", "--inline", after_commit).strip() == "done"
    in_transaction = ["exec", "--", "dbt", "compile", "--target-path", tmp_path, "--inline", work + vacuum]
    refused = run_warehouse(*in_transaction, check=False)
    assert refused.returncode != 0 and "cannot run inside a transaction block" in refused.stdout


def test_warehouse_up_refuses_a_server_without_timescaledb(kafka, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DBT_TARGET", "timescale")
    result = run_warehouse("up", check=False)
    assert result.returncode == 1
    assert "this server has no TimescaleDB extension" in result.stdout
