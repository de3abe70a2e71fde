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
