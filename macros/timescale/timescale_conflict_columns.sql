{#- The conflict target of an upsert into the model (its config timescale_hypertable unless given): on a
    hypertable its unique keys also hold the time column (timescale_unique_keys_with_time_column_sql),
    elsewhere they are the keys as configured. -#}
{% macro timescale_conflict_columns(keys, hypertable=none) -%}
    {%- set hypertable = hypertable or config.get('timescale_hypertable') -%}
    {%- if is_timescale() and hypertable and hypertable['time_column'] not in keys -%}
        {{ return(keys + [hypertable['time_column']]) }}
    {%- endif -%}
    {{ return(keys) }}
{%- endmacro %}
