{#- After-commit post-hook of the rollup (models/marts/notifications/timescale/), which `warehouse bill`
    builds before the billing, with var billing_date set. The refresh policy re-materializes minutes
    changed within its window (var timescale_rollup_refresh_start_offset); an event that reaches
    fct_notifications later than that after its event time leaves its minute invalidated until a
    refresh covers it. Refreshing the billed day first makes the bill count it. A day above the
    refresh window needs nothing: real-time aggregation reads it from fct_notifications. The rollup and
    its refresh_end_offset are the hook's model's unless given. -#}
{% macro timescale_refresh_billing_day(rollup=none, end_offset=none) -%}
    {%- if is_timescale() and execute and var('billing_date', none) is not none -%}
        {%- set window = run_query(
            timescale_day_refresh_window_sql(
                notification_billing_date(), notification_day_timezone(), end_offset or config.get('refresh_end_offset')
            )
        ).rows[0] -%}
        {%- if window['is_refreshable'] -%}
            {{ timescale_refresh_sql(
                rollup or this,
                "cast(" ~ sql_literal(window['window_start']) ~ " as timestamptz)",
                "cast(" ~ sql_literal(window['window_end']) ~ " as timestamptz)",
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
