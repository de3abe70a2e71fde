{#- A SQL string literal; embedded quotes are doubled (dbt.string_literal does not escape). -#}
{% macro sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
