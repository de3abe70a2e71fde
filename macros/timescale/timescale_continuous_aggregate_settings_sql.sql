{#- A DO block keeping the continuous aggregate real-time and its refresh policy as given (durations). -#}
{% macro timescale_continuous_aggregate_settings_sql(relation, start_offset, end_offset, schedule_interval) -%}
    {%- set start_offset = timescale_duration(start_offset, relation.identifier ~ ": refresh_start_offset") -%}
    {%- set end_offset = timescale_duration(end_offset, relation.identifier ~ ": refresh_end_offset") -%}
    {%- set schedule_interval = timescale_duration(schedule_interval, relation.identifier ~ ": refresh_schedule_interval") -%}
    {%- if start_offset['seconds'] <= end_offset['seconds'] -%}
        {{ exceptions.raise_compiler_error(relation.identifier ~ ": refresh_start_offset must be longer than refresh_end_offset") }}
    {%- endif -%}
    {%- set this_aggregate -%}
        view_schema = {{ sql_literal(relation.schema) }} and view_name = {{ sql_literal(relation.identifier) }}
    {%- endset -%}
    {#- timescaledb_information.jobs names the materialization hypertable of a continuous aggregate's
        policy up to TimescaleDB 2.19 and the aggregate itself from 2.20: match either. -#}
    {%- set this_policy = [
        "job.proc_name = 'policy_refresh_continuous_aggregate'",
        "and exists (",
        "    select from timescaledb_information.continuous_aggregates",
        "    where",
        "        " ~ this_aggregate,
        "        and (job.hypertable_schema, job.hypertable_name) in (",
        "            (materialization_hypertable_schema, materialization_hypertable_name), (view_schema, view_name)",
        "        )",
        ")",
        "and job.schedule_interval = " ~ schedule_interval['sql'],
        "and cast(job.config ->> 'start_offset' as interval) = " ~ start_offset['sql'],
        "and cast(job.config ->> 'end_offset' as interval) = " ~ end_offset['sql'],
    ] | join('\n') -%}
do $continuous_aggregate$
begin
    if exists (select from timescaledb_information.continuous_aggregates where {{ this_aggregate }} and materialized_only) then
        alter materialized view {{ relation.include(database=False) }} set (timescaledb.materialized_only = false);
    end if;
    {{ timescale_ensure_job_sql(
        this_policy,
        "remove_continuous_aggregate_policy(" ~ timescale_regclass(relation) ~ ", if_exists => true)",
        "add_continuous_aggregate_policy(" ~ timescale_regclass(relation)
            ~ ", start_offset => " ~ start_offset['sql']
            ~ ", end_offset => " ~ end_offset['sql']
            ~ ", schedule_interval => " ~ schedule_interval['sql'] ~ ")",
    ) | indent(4) }}
end
$continuous_aggregate$
{%- endmacro %}
