{% macro timescale_create_continuous_aggregate_sql(relation, sql) -%}
create materialized view {{ relation.include(database=False) }}
with (timescaledb.continuous, timescaledb.materialized_only = false) as
{{ sql }}
with no data
{%- endmacro %}
