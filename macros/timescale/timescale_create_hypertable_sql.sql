{#- A DO block that makes `relation` a hypertable on `time_column` with chunks of `chunk_time_interval`
    (migrating the rows it already holds), unless it is one already. -#}
{% macro timescale_create_hypertable_sql(relation, time_column, chunk_time_interval) -%}
do $create_hypertable$
begin
    if not exists (
        select from timescaledb_information.hypertables
        where
            hypertable_schema = {{ sql_literal(relation.schema) }}
            and hypertable_name = {{ sql_literal(relation.identifier) }}
    ) then
        {{ timescale_unique_keys_with_time_column_sql(relation, time_column) | indent(8) }}
        perform create_hypertable(
            {{ timescale_regclass(relation) }},
            by_range({{ sql_literal(time_column) }}, {{ chunk_time_interval }}),
            migrate_data => true
        );
    end if;
end
$create_hypertable$
{%- endmacro %}
