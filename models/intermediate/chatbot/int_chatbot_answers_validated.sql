{#- One row per answer: a content key of an element whose value is a string that is not empty
    after trimming. null, "", whitespace and non-string values are not answers. The trimmed answer
    is also read as a yes / no word (answer_boolean) and as a number (answer_number). -#}

with

answers as (

    select * from {{ ref('stg_chatbot__answers') }}

),

-- one row per content key, numbered in the element's document order
keys_unnested as (

    select
        answers.customer_id,
        answers.flow_id,
        answers.session_id,
        answers.answered_at,
        answers.load_id,
        answers.element_index,
        content_keys.key_index,
        content_keys.answer_key,
        answers.answer_content -> content_keys.answer_key as answer_json

    from answers
    cross join
        lateral unnest(answers.content_keys)
        with ordinality as content_keys (answer_key, key_index)

),

strings_extracted as (

    select
        customer_id,
        flow_id,
        session_id,
        answered_at,
        load_id,
        element_index,
        key_index,
        answer_key,
        answer_json #>> '{}' as answer_value

    from keys_unnested
    where jsonb_typeof(answer_json) = 'string'

),

trimmed as (

    select
        *,
        {{ chatbot_trim_whitespace('answer_value') }} as trimmed_value

    from strings_extracted

),

validated as (

    select
        customer_id,
        flow_id,
        session_id,
        answered_at,
        load_id,
        element_index,
        key_index,
        answer_key,
        answer_value,
        {{ chatbot_yes_no('trimmed_value') }} as answer_boolean,
        {{ chatbot_number('trimmed_value') }} as answer_number

    from trimmed
    where trimmed_value != ''

)

select * from validated
