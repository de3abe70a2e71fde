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
