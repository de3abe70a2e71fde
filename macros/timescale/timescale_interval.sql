{#- The duration in var `var_name`. -#}
{% macro timescale_interval(var_name) -%}
    {{ return(timescale_duration(var(var_name), 'var ' ~ var_name)) }}
{%- endmacro %}
