{#- Materialization `continuous_aggregate` (timescale target): the model's query becomes a real-time
    TimescaleDB continuous aggregate (materialized_only = false: closed buckets come from the
    materialization, newer ones are aggregated at query time) with a refresh policy from the configs
    refresh_start_offset, refresh_end_offset and refresh_schedule_interval.

    - It is created when missing (or when the relation is something else, such as the table the
      postgres target built) and on --full-refresh, then materialized once up to the refresh window
      end. Otherwise it is left as it is, the policy keeps it fresh, and a run only enforces the
      settings: a changed query needs --full-refresh.
    - Every refresh ends at the start of the current minute minus refresh_end_offset: only closed
      buckets are materialized, never the open one nor the future (an event dated ahead by a bad
      producer clock must not move the watermark past rows that are still coming).
    - refresh_continuous_aggregate cannot run in a transaction block: it runs after the commit, as
      dbt's after_commit hooks do (with dbt-postgres the connection autocommits after a COMMIT until
      the node ends). Hooks with `transaction: false` belong in post_hook only: before BEGIN they
      would leave the model's own statements without a transaction. -#}
{% materialization continuous_aggregate, adapter='postgres' %}
    {%- if not is_timescale() -%}
        {{ exceptions.raise_compiler_error(this ~ ": materialization continuous_aggregate needs the timescale target") }}
    {%- endif -%}
    {{ timescale_require_extension() }}

    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set is_continuous_aggregate = timescale_is_continuous_aggregate(this) -%}
    {%- set rebuild = should_full_refresh() or not is_continuous_aggregate -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if rebuild and existing_relation is not none -%}
        {%- set old_relation = existing_relation.incorporate(type='materialized_view')
            if is_continuous_aggregate else existing_relation -%}
        {%- call statement('drop_existing') -%}
            {{ get_drop_sql(old_relation) }}
        {%- endcall -%}
        {%- do adapter.cache_dropped(existing_relation) -%}
    {%- endif -%}

    {%- call statement('main') -%}
        {%- if rebuild %}
            {{ timescale_create_continuous_aggregate_sql(target_relation, sql) }};
        {%- endif %}
        {{ timescale_continuous_aggregate_settings_sql(
            target_relation,
            config.get('refresh_start_offset'),
            config.get('refresh_end_offset'),
            config.get('refresh_schedule_interval'),
        ) }}
    {%- endcall -%}

    {%- if rebuild -%}
        {%- do create_indexes(target_relation) -%}
    {%- endif -%}
    {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh_mode=rebuild)) -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}

    {%- if rebuild -%}
        {#- after the commit, outside any transaction -#}
        {%- call statement('initial_refresh', auto_begin=False) -%}
            {{ timescale_refresh_sql(target_relation, 'null', timescale_refresh_window_end(config.get('refresh_end_offset'))) }}
        {%- endcall -%}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% macro timescale_is_continuous_aggregate(relation) -%}
    {%- set found = run_query(
        "select 1 from timescaledb_information.continuous_aggregates where view_schema = "
        ~ sql_literal(relation.schema) ~ " and view_name = " ~ sql_literal(relation.identifier)
    ) -%}
    {{ return(found.rows | length > 0) }}
{%- endmacro %}

{% macro timescale_create_continuous_aggregate_sql(relation, sql) -%}
create materialized view {{ relation.include(database=False) }}
with (timescaledb.continuous, timescaledb.materialized_only = false) as
{{ sql }}
with no data
{%- endmacro %}

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

{#- The latest end any refresh may use: the start of the current minute minus `end_offset` (the
    policy's own window end), so the open bucket and the future are never materialized. -#}
{% macro timescale_refresh_window_end(end_offset) -%}
    date_trunc('minute', now()) - {{ timescale_duration(end_offset, 'refresh_end_offset')['sql'] }}
{%- endmacro %}

{#- Materializes the closed buckets of [window_start, window_end) that are missing or invalidated by
    changes to the hypertable (both SQL expressions; null = unbounded). Outside a transaction only:
    after a commit (post-hooks with `transaction: false`). -#}
{% macro timescale_refresh_sql(relation, window_start, window_end) -%}
call refresh_continuous_aggregate({{ timescale_regclass(relation) }}, {{ window_start }}, {{ window_end }})
{%- endmacro %}
