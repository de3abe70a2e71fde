{% macro pipeline_lock(name) -%}
    insert into ops.pipeline_locks as locks (name) values ({{ sql_literal(name) }})
    on conflict (name) do update set locked_at = excluded.locked_at
{%- endmacro %}
