{#- Inside a DO block: compression of the hypertable `relation` enabled (segment_by, order_by: column
    lists) unless it is, a compression policy after `compress_after` and a retention policy dropping
    chunks after `drop_after` (both {'sql', 'seconds'}, drop_after the longer), each replaced when
    its setting changed. -#}
{% macro timescale_compression_and_retention_sql(relation, segment_by, order_by, compress_after, drop_after) -%}
    {%- if drop_after['seconds'] <= compress_after['seconds'] -%}
        {{ exceptions.raise_compiler_error(
            relation ~ ": the retention (" ~ drop_after['sql'] ~ ") must be longer than the compression delay ("
            ~ compress_after['sql'] ~ ")"
        ) }}
    {%- endif -%}
    {%- set this_hypertable -%}
        hypertable_schema = {{ sql_literal(relation.schema) }} and hypertable_name = {{ sql_literal(relation.identifier) }}
    {%- endset -%}
if not (select compression_enabled from timescaledb_information.hypertables where {{ this_hypertable }}) then
    alter table {{ relation.include(database=False) }} set (
        timescaledb.compress,
        timescaledb.compress_segmentby = {{ sql_literal(segment_by) }},
        timescaledb.compress_orderby = {{ sql_literal(order_by) }}
    );
end if;
{{ timescale_ensure_job_sql(
    "proc_name = 'policy_compression'\nand " ~ this_hypertable
        ~ "\nand cast(config ->> 'compress_after' as interval) = " ~ compress_after['sql'],
    "remove_compression_policy(" ~ timescale_regclass(relation) ~ ", if_exists => true)",
    "add_compression_policy(" ~ timescale_regclass(relation) ~ ", compress_after => " ~ compress_after['sql'] ~ ")",
) }}
{{ timescale_ensure_job_sql(
    "proc_name = 'policy_retention'\nand " ~ this_hypertable
        ~ "\nand cast(config ->> 'drop_after' as interval) = " ~ drop_after['sql'],
    "remove_retention_policy(" ~ timescale_regclass(relation) ~ ", if_exists => true)",
    "add_retention_policy(" ~ timescale_regclass(relation) ~ ", drop_after => " ~ drop_after['sql'] ~ ")",
) }}
{%- endmacro %}
