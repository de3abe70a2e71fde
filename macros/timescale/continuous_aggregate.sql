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
