{#- The channel rule (lowercase, without whitespace, underscores, dots or dashes), defined once as
    the SQL function raw.normalized_channel by the loader's schema (loader/sql/raw_schema.sql), which
    the reports apply to --channel too. -#}
{% macro normalize_channel(expression) -%}
    raw.normalized_channel({{ expression }})
{%- endmacro %}
