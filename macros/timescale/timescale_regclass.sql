{#- A relation as the text literal TimescaleDB's functions take as regclass ('"schema"."name"'). -#}
{% macro timescale_regclass(relation) -%}
    {{ sql_literal(relation.include(database=False)) }}
{%- endmacro %}
