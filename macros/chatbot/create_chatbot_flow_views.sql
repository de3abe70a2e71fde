{#- Post-hook of fct_chatbot_conversations (`conversations` = that table): one view per flow in the
    schema var('chatbot_flow_views_schema'), with the fixed columns and then one column per answer
    key, in the order and with the names and types of dim_chatbot_flow_keys.

    The column list comes from the data, so it is read at run time. Every name and literal taken
    from the data is quoted by PostgreSQL (quote_ident, quote_literal, format %I / %L): dbt's
    adapter.quote() does not escape a double quote inside a name.

    The schema belongs to this hook: it drops every view there and creates one per current flow,
    in the model's transaction, so a flow that disappeared leaves no view behind and readers never
    see the schema half-built. -#}
{% macro create_chatbot_flow_views(conversations) %}
    {%- if execute -%}
        {%- set schema = var('chatbot_flow_views_schema') -%}
        {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]*', schema) -%}
            {{- exceptions.raise_compiler_error(
                'chatbot_flow_views_schema must be a lowercase SQL identifier, not ' ~ schema
            ) -}}
        {%- endif -%}

        {%- set existing_views_query -%}
            select quote_ident(viewname) as view_identifier
            from pg_catalog.pg_views
            where schemaname = '{{ schema }}'
            order by viewname
        {%- endset -%}

        {%- set flow_views_query -%}
            select
                quote_ident(flows.view_name) as view_identifier,
                quote_literal(flows.flow_id) as flow_literal,
                string_agg(
                    format(
                        'cast(answers ->> %L as %s) as %I',
                        flow_keys.answer_key,
                        flow_keys.column_type,
                        flow_keys.column_name
                    ),
                    ', '
                    order by flow_keys.column_position
                ) as answer_columns
            from {{ ref('dim_chatbot_flows') }} as flows
            inner join {{ ref('dim_chatbot_flow_keys') }} as flow_keys
                on flows.flow_id = flow_keys.flow_id
            -- a view has at most 1,600 columns; later keys stay in the table's answers
            where flow_keys.column_position <= 1600 - {{ chatbot_fixed_columns() | length }}
            group by flows.flow_id, flows.view_name
            order by flows.flow_id
        {%- endset -%}


        create schema if not exists {{ schema }};
        {%- for view in run_query(existing_views_query) %}
        drop view {{ schema }}.{{ view.view_identifier }};
        {%- endfor %}
        {%- for view in run_query(flow_views_query) %}
        create view {{ schema }}.{{ view.view_identifier }} as
        select
            {%- for view_column, model_column in chatbot_fixed_columns().items() %}
            {{ model_column }} as {{ view_column }},
            {%- endfor %}
            {{ view.answer_columns }}
        from {{ conversations }}
        where flow_id = {{ view.flow_literal }};
        {%- endfor %}
    {%- endif -%}
{% endmacro %}
