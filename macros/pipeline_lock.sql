{#- The pipeline's lock `name`, held to the end of the transaction: a row lock on a table readers
    cannot reach, the same locks loader.db.lock takes (the table: loader/db.py). -#}
{% macro pipeline_lock(name) -%}
    insert into ops.pipeline_locks as locks (name) values ({{ sql_literal(name) }})
    on conflict (name) do update set locked_at = excluded.locked_at
{%- endmacro %}
