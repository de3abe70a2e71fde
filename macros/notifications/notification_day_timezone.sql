{#- The time zone whose calendar days the panel and the billing count (var notification_day_timezone,
    default UTC), as a SQL literal. -#}
{% macro notification_day_timezone() -%}
    {{ sql_literal(var('notification_day_timezone')) }}
{%- endmacro %}
