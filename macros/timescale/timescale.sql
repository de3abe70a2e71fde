{#- TimescaleDB, for the `timescale` target only (profiles/profiles.yml). dbt-timescaledb needs dbt-core
    1.12, which cannot be installed here, so these are our own macros. On every other target the hooks
    in this folder render nothing and the project builds exactly as on plain PostgreSQL. -#}

{% macro is_timescale() -%}
    {{ return(target.name == 'timescale') }}
{%- endmacro %}

{#- A duration such as `3 hours` (`what` names its setting in the error) as
    {'sql': "interval '3 hours'", 'seconds': 10800}. Checked against a strict pattern, so a setting
    cannot inject SQL into the DDL. -#}
{% macro timescale_duration(value, what) -%}
    {%- set value = value | string | trim -%}
    {%- set parsed = modules.re.fullmatch('([1-9][0-9]*) (second|minute|hour|day)s?', value) -%}
    {%- if not parsed -%}
        {{ exceptions.raise_compiler_error(
            what ~ " must be a duration such as '3 hours' (seconds, minutes, hours or days), got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {%- set unit_seconds = {'second': 1, 'minute': 60, 'hour': 3600, 'day': 86400} -%}
    {{ return({
        'sql': "interval '" ~ value ~ "'",
        'seconds': (parsed.group(1) | int) * unit_seconds[parsed.group(2)],
    }) }}
{%- endmacro %}

{#- A whole number of days (`what` names its setting in the error) as {'sql': "interval 'N days'", 'seconds': ...}. -#}
{% macro timescale_days(value, what) -%}
    {%- set days = value | string | trim -%}
    {%- if not modules.re.fullmatch('[1-9][0-9]*', days) -%}
        {{ exceptions.raise_compiler_error(what ~ " must be a whole number of days, got '" ~ days ~ "'") }}
    {%- endif -%}
    {{ return({'sql': "interval '" ~ days ~ " days'", 'seconds': (days | int) * 86400}) }}
{%- endmacro %}

{#- The duration in var `var_name`. -#}
{% macro timescale_interval(var_name) -%}
    {{ return(timescale_duration(var(var_name), 'var ' ~ var_name)) }}
{%- endmacro %}

{#- A relation as the text literal TimescaleDB's functions take as regclass ('"schema"."name"'). -#}
{% macro timescale_regclass(relation) -%}
    {{ sql_literal(relation.include(database=False)) }}
{%- endmacro %}

{#- Fails the run with a clear message unless the database has the extension (at run time only). -#}
{% macro timescale_require_extension() -%}
    {%- if execute -%}
        {%- set installed = run_query("select 1 from pg_extension where extname = 'timescaledb'") -%}
        {%- if installed.rows | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "target timescale: the TimescaleDB extension is not installed in database " ~ target.dbname
                ~ ". Run `warehouse up` against a TimescaleDB server (docker-compose's timescaledb service),"
                ~ " or use the postgres target on plain PostgreSQL."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

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

{#- Inside a DO block: (re)creates a TimescaleDB job unless one matching `job_matches` (a condition on
    timescaledb_information.jobs as `job`) exists, so a changed setting replaces the job and an
    unchanged one leaves it (and its schedule and history) alone. -#}
{% macro timescale_ensure_job_sql(job_matches, remove_call, add_call) -%}
if not exists (
    select from timescaledb_information.jobs as job
    where
        {{ job_matches | indent(8) }}
) then
    perform {{ remove_call }};
    perform {{ add_call }};
end if;
{%- endmacro %}

{#- Inside a DO block: compression of the hypertable `relation` enabled (segment_by, order_by: column
    lists) unless it is, a compression policy after `compress_after` and a retention policy dropping
    chunks after `drop_after` (both {'sql', 'seconds'}, drop_after the longer), each replaced when
    its setting changed. -#}
{% macro timescale_compression_and_retention_sql(relation, segment_by, order_by, compress_after, drop_after) -%}
    {%- if drop_after['seconds'] <= compress_after['seconds'] -%}
        {{ exceptions.raise_compiler_error(
            relation ~ ": the retention (" ~ drop_after['sql'] ~ ") must be longer than the compression delay ("
            ~ compress_after['sql'] ~ ")"
        ) }}
    {%- endif -%}
    {%- set this_hypertable -%}
        hypertable_schema = {{ sql_literal(relation.schema) }} and hypertable_name = {{ sql_literal(relation.identifier) }}
    {%- endset -%}
if not (select compression_enabled from timescaledb_information.hypertables where {{ this_hypertable }}) then
    alter table {{ relation.include(database=False) }} set (
        timescaledb.compress,
        timescaledb.compress_segmentby = {{ sql_literal(segment_by) }},
        timescaledb.compress_orderby = {{ sql_literal(order_by) }}
    );
end if;
{{ timescale_ensure_job_sql(
    "proc_name = 'policy_compression'\nand " ~ this_hypertable
        ~ "\nand cast(config ->> 'compress_after' as interval) = " ~ compress_after['sql'],
    "remove_compression_policy(" ~ timescale_regclass(relation) ~ ", if_exists => true)",
    "add_compression_policy(" ~ timescale_regclass(relation) ~ ", compress_after => " ~ compress_after['sql'] ~ ")",
) }}
{{ timescale_ensure_job_sql(
    "proc_name = 'policy_retention'\nand " ~ this_hypertable
        ~ "\nand cast(config ->> 'drop_after' as interval) = " ~ drop_after['sql'],
    "remove_retention_policy(" ~ timescale_regclass(relation) ~ ", if_exists => true)",
    "add_retention_policy(" ~ timescale_regclass(relation) ~ ", drop_after => " ~ drop_after['sql'] ~ ")",
) }}
{%- endmacro %}
