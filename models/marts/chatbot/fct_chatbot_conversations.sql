{#- One row per conversation with its latest answers as jsonb. Its post-hook regenerates the
    per-flow pivot views from the two dims below, in the same transaction as this table; the
    index serves those views (one flow, ordered by customer and session). -#}
-- depends_on: {{ ref('dim_chatbot_flows') }}
-- depends_on: {{ ref('dim_chatbot_flow_keys') }}
{{ config(
    post_hook="{{ create_chatbot_flow_views(this) }}",
    indexes=[{'columns': ['flow_id', 'customer_id', 'session_id'], 'unique': true}],
) }}

with

conversation_answers as (

    select * from {{ ref('fct_chatbot_conversation_answers') }}

),

aggregated as (

    select
        customer_id,
        flow_id,
        session_id,
        min(first_answered_at) as first_answer_at,
        max(last_answered_at) as last_answer_at,
        count(*) as answer_key_count,
        jsonb_object_agg(answer_key, reported_answer) as answers

    from conversation_answers
    group by customer_id, flow_id, session_id

)

select * from aggregated
