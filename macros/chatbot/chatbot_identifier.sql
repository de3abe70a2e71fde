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
