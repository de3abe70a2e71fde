{#- `text_sql` without leading or trailing whitespace: every Unicode White_Space character,
    not only the spaces that btrim() removes by default. -#}
{% macro chatbot_trim_whitespace(text_sql) -%}
    btrim(
        {{ text_sql }},
        e' \t\n\u000b\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'
    )
{%- endmacro %}
