{% macro timescale_is_continuous_aggregate(relation) -%}
    {%- set found = run_query(
        "select 1 from timescaledb_information.continuous_aggregates where view_schema = "
        ~ sql_literal(relation.schema) ~ " and view_name = " ~ sql_literal(relation.identifier)
    ) -%}
    {{ return(found.rows | length > 0) }}
{%- endmacro %}
