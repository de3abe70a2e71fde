{#- var timescale_raw_retention_days (RAW_RETENTION_DAYS), a whole number of days, as an interval. -#}
{% macro timescale_raw_retention() -%}
    {{ return(timescale_days(var('timescale_raw_retention_days'), 'RAW_RETENTION_DAYS (var timescale_raw_retention_days)')) }}
{%- endmacro %}
