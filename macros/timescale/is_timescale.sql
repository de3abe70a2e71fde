{% macro is_timescale() -%}
    {{ return(target.name == 'timescale') }}
{%- endmacro %}
