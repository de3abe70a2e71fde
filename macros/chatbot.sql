{#- Rules and naming shared by the chatbot models and the per-flow pivot views. -#}

{#- The pivot views' fixed columns (view column: fct_chatbot_conversations column), in order.
    A key with one of these names becomes answer_<key>. -#}
{% macro chatbot_fixed_columns() -%}
    {{ return({
        'customer': 'customer_id',
        'flow': 'flow_id',
        'session': 'session_id',
        'first_answer_dt': 'first_answer_at',
        'last_answer_dt': 'last_answer_at',
    }) }}
{%- endmacro %}

{% macro chatbot_is_fixed_column(text_sql) -%}
    {{ text_sql }} in (
        {%- for column in chatbot_fixed_columns() -%}
            '{{ column }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    )
{%- endmacro %}

{#- `text_sql` without leading or trailing whitespace: every Unicode White_Space character,
    not only the spaces that btrim() removes by default. -#}
{% macro chatbot_trim_whitespace(text_sql) -%}
    btrim(
        {{ text_sql }},
        e' \t\n\u000b\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'
    )
{%- endmacro %}

{#- For a trimmed answer: sim / true -> true, não / nao / false -> false (any case, accent composed
    or not), else null. lower() leaves Ã alone under the C collation, hence the translate(). The
    words have at most 5 characters (ã decomposed counts 2), so longer answers skip the
    normalisation. -#}
{% macro chatbot_yes_no(trimmed_sql) -%}
    case
        when char_length({{ trimmed_sql }}) <= 5
            then
                case lower(translate(normalize({{ trimmed_sql }}, nfc), 'Ã', 'ã'))
                    when 'sim' then true
                    when 'true' then true
                    when 'não' then false
                    when 'nao' then false
                    when 'false' then false
                end
    end
{%- endmacro %}

{#- For a trimmed answer: its value as numeric when it is a plain decimal number (ASCII digits, an
    optional minus sign and fraction: 9, -3, 9.5, 0.25), else null. A leading zero ("007", "01310")
    marks a code, not a number, and stays text, as do exponents, "NaN" and "Infinity". -#}
{% macro chatbot_number(trimmed_sql) -%}
    case
        when
            {{ trimmed_sql }} ~ '^-?(0|[1-9][0-9]*)([.][0-9]+)?$'
            and pg_input_is_valid({{ trimmed_sql }}, 'numeric')
            then cast({{ trimmed_sql }} as numeric)
    end
{%- endmacro %}

{#- The type of a pivot view's column, from the reported answers of its key (`boolean_sql`,
    `number_sql`: their answer_boolean, answer_number): boolean when every one is a yes / no word,
    bigint when every one is an integer in bigint's range, numeric when every one is a number,
    else text. An aggregate: use it grouped by flow and key. -#}
{% macro chatbot_column_type(boolean_sql, number_sql) -%}
    case
        when bool_and({{ boolean_sql }} is not null) then 'boolean'
        when
            bool_and(
                coalesce(
                    scale({{ number_sql }}) = 0
                    and {{ number_sql }} between -9223372036854775808 and 9223372036854775807,
                    false
                )
            )
            then 'bigint'
        when bool_and({{ number_sql }} is not null) then 'numeric'
        else 'text'
    end
{%- endmacro %}

{#- A PostgreSQL identifier (at most 63 bytes) for the text `name_sql`, collision-free by
    construction: the name itself when it fits, `is_taken_sql` is false and it does not end like a
    generated name (`~` and digits); otherwise its longest prefix (whole characters) that fits
    before '~' and `number_sql`, a number unique among the names being made (a column's position,
    a flow's number). Kept names are distinct and never end like a generated one; generated names
    end in distinct numbers. -#}
{% macro chatbot_identifier(name_sql, number_sql, is_taken_sql) -%}
    case
        when
            octet_length({{ name_sql }}) between 1 and 63
            and {{ name_sql }} !~ '~[0-9]+$'
            and not ({{ is_taken_sql }})
            then {{ name_sql }}
        else
            left(
                {{ name_sql }},
                (
                    select max(prefix_length)
                    from generate_series(0, 62) as prefix_length
                    where
                        octet_length(left({{ name_sql }}, prefix_length))
                        <= 62 - octet_length(cast({{ number_sql }} as text))
                )
            )
            || '~' || cast({{ number_sql }} as text)
    end
{%- endmacro %}
