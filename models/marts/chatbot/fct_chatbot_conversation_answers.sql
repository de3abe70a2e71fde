{#- The long model: one row per conversation (customer, flow, session) and answer key, with the
    key's latest valid answer. On equal timestamps the later in load order wins: the file loaded
    later, then the later element in the file. -#}

with

answers as (

    select * from {{ ref('int_chatbot_answers_validated') }}

),

ranked as (

    select
        customer_id,
        flow_id,
        session_id,
        answer_key,
        answer_value,
        answer_boolean,
        answer_number,
        answered_at,
        load_id,
        element_index,
        min(answered_at) over conversation_key as first_answered_at,
        count(*) over conversation_key as answer_count,
        row_number() over (
            conversation_key order by answered_at desc, load_id desc, element_index desc
        ) as recency_rank

    from answers
    window conversation_key as (partition by customer_id, flow_id, session_id, answer_key)

),

latest as (

    select
        customer_id,
        flow_id,
        session_id,
        answer_key,
        answer_value,
        answer_boolean,
        answer_number,
        -- what reports show: true / false for a yes / no word, a JSON number for a number, else the
        -- answer as given
        coalesce(to_jsonb(answer_boolean), to_jsonb(answer_number), to_jsonb(answer_value))
            as reported_answer,
        first_answered_at,
        answered_at as last_answered_at,
        answer_count,
        load_id,
        element_index

    from ranked
    where recency_rank = 1

)

select * from latest
