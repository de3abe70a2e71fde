{#- The model whose processed Kafka offsets the per-minute rollup covers, i.e. where the raw tail the
    panel adds starts. On PostgreSQL the rollup is incremental by offsets of its own. On TimescaleDB
    it aggregates at query time whatever fct_notifications holds above its watermark, so it covers
    exactly what fct_notifications has processed. -#}
{% macro notification_rollup_offsets_model() -%}
    {{ return('fct_notifications' if is_timescale() else 'fct_notifications_per_minute') }}
{%- endmacro %}
