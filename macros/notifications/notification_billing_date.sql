{#- The day to bill as a date expression: var billing_date (YYYY-MM-DD) or, by default, the last day
    closed by the pipeline's watermark, read by the query at run time (a compile-time query would fail
    `dbt compile` and `dbt docs generate` on a database not built yet). null when nothing has landed. -#}
{% macro notification_billing_date() -%}
    {%- set requested = var('billing_date', none) -%}
    {%- if requested is not none -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', requested | string) -%}
            {{ exceptions.raise_compiler_error("var billing_date must be a date YYYY-MM-DD, got " ~ requested) }}
        {%- endif -%}
        cast({{ sql_literal(requested | string) }} as date)
    {%- else -%}
        (select watermark_date - 1 from {{ ref('rpt_notification_watermark') }})
    {%- endif -%}
{%- endmacro %}
