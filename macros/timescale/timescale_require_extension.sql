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
