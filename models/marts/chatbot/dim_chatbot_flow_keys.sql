{#- One row per flow and answer key: the key's column in the flow's pivot view. -#}

with

answers as (

    select * from {{ ref('int_chatbot_answers_validated') }}

),

conversation_answers as (

    select * from {{ ref('fct_chatbot_conversation_answers') }}

),

-- a key's first valid appearance in its flow: its earliest timestamp, then among the answers at
-- that instant the first in load order and within the element (no sort of every answer needed)
first_timestamps as (

    select
        flow_id,
        answer_key,
        min(answered_at) as first_answered_at

    from answers
    group by flow_id, answer_key

),

first_appearances as (

    select distinct on (first_timestamps.flow_id, first_timestamps.answer_key)
        first_timestamps.flow_id,
        first_timestamps.answer_key,
        first_timestamps.first_answered_at,
        answers.load_id,
        answers.element_index,
        answers.key_index

    from first_timestamps
    inner join answers
        on
            first_timestamps.flow_id = answers.flow_id
            and first_timestamps.answer_key = answers.answer_key
            and first_timestamps.first_answered_at = answers.answered_at
    order by
        first_timestamps.flow_id,
        first_timestamps.answer_key,
        answers.load_id,
        answers.element_index,
        answers.key_index

),

-- a key's column type from every conversation's reported answer (boolean, bigint, numeric, text)
value_types as (

    select
        flow_id,
        answer_key,
        {{ chatbot_column_type('answer_boolean', 'answer_number') }} as column_type,
        count(*) as conversation_count

    from conversation_answers
    group by flow_id, answer_key

),

positioned as (

    select
        first_appearances.flow_id,
        first_appearances.answer_key,
        first_appearances.first_answered_at,
        value_types.column_type,
        value_types.conversation_count,
        row_number() over (
            partition by first_appearances.flow_id
            order by
                first_appearances.first_answered_at,
                first_appearances.load_id,
                first_appearances.element_index,
                first_appearances.key_index
        ) as column_position,
        case
            when {{ chatbot_is_fixed_column('first_appearances.answer_key') }}
                then 'answer_' || first_appearances.answer_key
            else first_appearances.answer_key
        end as wanted_column_name

    from first_appearances
    inner join value_types
        on
            first_appearances.flow_id = value_types.flow_id
            and first_appearances.answer_key = value_types.answer_key

),

-- the first key (in column order) to want a name gets it; later ones are disambiguated
ranked as (

    select
        *,
        row_number() over (
            partition by flow_id, wanted_column_name order by column_position
        ) as wanted_name_rank

    from positioned

),

named as (

    select
        flow_id,
        answer_key,
        column_position,
        {{ chatbot_identifier('wanted_column_name', 'column_position', 'wanted_name_rank > 1') }}
            as column_name,
        column_type = 'boolean' as is_boolean,
        first_answered_at,
        conversation_count,
        column_type

    from ranked

)

select * from named
