{#- How the notification models differ on the timescale target, where fct_notifications_per_minute is
    a real-time continuous aggregate over fct_notifications (models/marts/notifications/timescale/). -#}

{#- The model whose processed Kafka offsets the per-minute rollup covers, i.e. where the raw tail the
    panel adds starts. On PostgreSQL the rollup is incremental by offsets of its own. On TimescaleDB
    it aggregates at query time whatever fct_notifications holds above its watermark, so it covers
    exactly what fct_notifications has processed. -#}
{% macro notification_rollup_offsets_model() -%}
    {{ return('fct_notifications' if is_timescale() else 'fct_notifications_per_minute') }}
{%- endmacro %}

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

{#- The day `day_sql` (a date expression) in the time zone `zone_sql`, cut at the latest refresh window
    end for `end_offset`; is_refreshable is false when nothing of the day may be materialized yet, or
    when the day starts before the detail retention (var detail_retention_days): its chunks of
    fct_notifications may be dropped, and a refresh would replace its materialized minutes with what
    is left (TimescaleDB re-aggregates a refreshed window from the hypertable). Such a day is billed
    from the minutes as materialized. -#}
{% macro timescale_day_refresh_window_sql(day_sql, zone_sql, end_offset) -%}
    {%- set window_end = timescale_refresh_window_end(end_offset) -%}
select
    cast(window_start as text) as window_start,
    cast(window_end as text) as window_end,
    window_start < window_end
    and window_start >= now() - {{ timescale_days(var('detail_retention_days'), 'DETAIL_RETENTION_DAYS')['sql'] }}
    as is_refreshable
from (
    select
        timezone({{ zone_sql }}, cast({{ day_sql }} as timestamp)) as window_start,
        least(timezone({{ zone_sql }}, cast({{ day_sql }} + 1 as timestamp)), {{ window_end }}) as window_end
) as billed_day
{%- endmacro %}
