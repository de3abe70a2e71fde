{#- The latest end any refresh may use: the start of the current minute minus `end_offset` (the
    policy's own window end), so the open bucket and the future are never materialized. -#}
{% macro timescale_refresh_window_end(end_offset) -%}
    date_trunc('minute', now()) - {{ timescale_duration(end_offset, 'refresh_end_offset')['sql'] }}
{%- endmacro %}
