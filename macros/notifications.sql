{#- One spelling per channel: "Whatsapp", "WhatsApp", " WHATSAPP ", "whats-app" -> 'whatsapp':
    lowercase without whitespace, underscores, dots or dashes (translate: far cheaper than a regex per
    event). loader/reports/notifications.py applies the same expression to --channel. -#}
{% macro normalize_channel(expression) -%}
    nullif(translate(lower({{ expression }}), E' \t\r\n_.-', ''), '')
{%- endmacro %}

{#- The time zone whose calendar days the panel and the billing count (var notification_day_timezone,
    default UTC), as a SQL literal. -#}
{% macro notification_day_timezone() -%}
    {{ sql_literal(var('notification_day_timezone')) }}
{%- endmacro %}

{#- The day to bill as a date literal: var billing_date (YYYY-MM-DD) or, by default, the last day
    closed by the pipeline's watermark. null when nothing has landed yet. -#}
{% macro notification_billing_date() -%}
    {%- set requested = var('billing_date', none) -%}
    {%- if requested is not none -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', requested | string) -%}
            {{ exceptions.raise_compiler_error("var billing_date must be a date YYYY-MM-DD, got " ~ requested) }}
        {%- endif -%}
        cast({{ sql_literal(requested | string) }} as date)
    {%- elif execute -%}
        {%- set default = run_query(
            "select cast(watermark_date - 1 as text) from " ~ ref('rpt_notification_watermark')
        ).columns[0].values()[0] -%}
        {%- if default is none -%} cast(null as date) {%- else -%} cast({{ sql_literal(default) }} as date) {%- endif -%}
    {%- else -%}
        cast(null as date)
    {%- endif -%}
{%- endmacro %}

{#- A SQL string literal; embedded quotes are doubled (dbt.string_literal does not escape). -#}
{% macro sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- Longest accepted value of a notification field that is part of a unique key, in characters
    (4 bytes at most each, well within the 2,704 bytes of a btree entry). -#}
{% macro notification_max_length(field) -%}
    {{ return({'message_id': 200, 'channel': 64}[field]) }}
{%- endmacro %}

{#- A regular expression for the documented event_datetime form, with the year as `year_pattern`:
    YYYY-MM-DD, T or a space, HH:MM with optional :SS and a fraction of 1 to 9 digits, then Z or an offset
    +HH:MM, +HHMM or +HH (or -). PostgreSQL reads far more (BC, zone names, stray characters
    inside the fields), so this comes before its parser. -#}
{% macro notification_timestamp_pattern(year_pattern) -%}
    ^{{ year_pattern }}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$
{%- endmacro %}
