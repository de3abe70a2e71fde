{#- Incremental strategy `upsert`: INSERT ... ON CONFLICT on the model's unique_key (which needs a
    unique index, see the model's `indexes`). Without `upsert_set` a conflicting row is skipped
    (the stored row wins); with it, `upsert_set` maps each column to update to
    an expression over `existing` (the stored row) and `excluded` (the new one), e.g. adding counts.
    Unlike delete+insert this never rewrites rows the batch does not touch. -#}
{% macro get_incremental_upsert_sql(arg_dict) -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- if not unique_key -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'upsert' needs a unique_key") }}
    {%- endif -%}
    {%- set keys = timescale_conflict_columns([unique_key] if unique_key is string else unique_key) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set updates = config.get('upsert_set') or {} -%}
    insert into {{ arg_dict['target_relation'] }} as existing ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
    on conflict ({{ get_quoted_csv(keys) }})
    {%- if updates %}
    do update set
        {%- for column, expression in updates.items() %}
        {{ adapter.quote(column) }} = {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    {%- else %}
    do nothing
    {%- endif %}
{%- endmacro %}
