{#- `dbt run-operation timescale_setup_raw` (run by `warehouse up` for the timescale target, after the
    loader created the raw schema): raw.notification_events becomes a hypertable on loaded_at with
    1-day chunks, compressed after var timescale_raw_compress_after and dropped after
    var timescale_raw_retention_days (RAW_RETENTION_DAYS). Idempotent: unchanged settings are left
    alone, changed policies are replaced.

    The primary key (kafka_topic, kafka_partition, kafka_offset) gains loaded_at, because TimescaleDB
    requires unique keys to contain the partitioning column. A second copy of an offset with another
    loaded_at is then no longer refused by the database: exactly-once rests on the loader's offset
    fence (raw.kafka_offsets is moved by compare-and-set in the transaction that lands the rows). -#}
{% macro timescale_setup_raw() -%}
    {%- if not is_timescale() -%}
        {{ exceptions.raise_compiler_error("timescale_setup_raw is for the timescale target, not " ~ target.name) }}
    {%- endif -%}
    {%- set available = run_query("select 1 from pg_available_extensions where name = 'timescaledb'") -%}
    {%- if available.rows | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "target timescale: this server has no TimescaleDB extension. Point WAREHOUSE_DSN at a TimescaleDB"
            ~ " server (docker-compose's timescaledb service), or use the postgres target (unset WAREHOUSE_DBT_TARGET)."
        ) }}
    {%- endif -%}
    {%- call statement('timescale_setup_raw', auto_begin=True) -%}
        {{ timescale_setup_raw_sql() }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {{ log(
        "raw.notification_events: hypertable on loaded_at (1-day chunks), compressed after "
        ~ var('timescale_raw_compress_after') ~ ", dropped after " ~ timescale_raw_retention()['sql'],
        info=True
    ) }}
{%- endmacro %}
