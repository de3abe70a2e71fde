{#- A PL/pgSQL block: TimescaleDB requires every unique index and constraint of a hypertable to contain
    the partitioning column, so each one of `relation` that lacks `time_column` is re-created with it
    appended (same name, same kind). Uniqueness becomes per (key, time). -#}
{% macro timescale_unique_keys_with_time_column_sql(relation, time_column) -%}
    {%- set table = sql_literal(relation.include(database=False)) -%}
declare
    unique_index record;
begin
    for unique_index in
        select
            index_class.relname as index_name,
            table_constraint.conname as constraint_name,
            table_constraint.contype as constraint_type,
            index_.indexprs is not null or index_.indpred is not null as is_partial_or_expression,
            (
                select string_agg(quote_ident(key_column.attname), ', ' order by key_part.position)
                from unnest(index_.indkey) with ordinality as key_part (attnum, position)
                inner join pg_attribute as key_column
                    on key_column.attrelid = index_.indrelid and key_column.attnum = key_part.attnum
            ) as key_columns
        from pg_index as index_
        inner join pg_class as index_class on index_class.oid = index_.indexrelid
        left join pg_constraint as table_constraint
            on table_constraint.conindid = index_.indexrelid and table_constraint.conrelid = index_.indrelid
        where
            index_.indrelid = cast({{ table }} as regclass)
            and index_.indisunique
            and not exists (
                select from pg_attribute as time_attribute
                where
                    time_attribute.attrelid = index_.indrelid
                    and time_attribute.attname = {{ sql_literal(time_column) }}
                    and time_attribute.attnum = any(index_.indkey)
            )
    loop
        if unique_index.is_partial_or_expression then
            raise exception 'cannot make % a hypertable: add column % to its unique index % by hand',
                {{ table }}, {{ sql_literal(time_column) }}, unique_index.index_name;
        end if;
        if unique_index.constraint_name is not null then
            execute format(
                'alter table %s drop constraint %I, add constraint %I %s (%s, %I)',
                {{ table }}, unique_index.constraint_name, unique_index.constraint_name,
                case unique_index.constraint_type when 'p' then 'primary key' else 'unique' end,
                unique_index.key_columns, {{ sql_literal(time_column) }}
            );
        else
            execute format('drop index %I.%I', {{ sql_literal(relation.schema) }}, unique_index.index_name);
            execute format(
                'create unique index %I on %s (%s, %I)',
                unique_index.index_name, {{ table }}, unique_index.key_columns, {{ sql_literal(time_column) }}
            );
        end if;
    end loop;
end;
{%- endmacro %}
