{#- A regular expression for the documented event_datetime form, with the year as `year_pattern`.
    PostgreSQL reads far more (BC, zone names, stray characters inside the fields), so this comes
    before its parser. -#}
{% macro notification_timestamp_pattern(year_pattern) -%}
    ^{{ year_pattern }}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$
{%- endmacro %}
