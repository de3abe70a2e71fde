{#- One row per flow: where its pivot view is and how wide it is. -#}

with

flow_keys as (

    select * from {{ ref('dim_chatbot_flow_keys') }}

),

aggregated as (

    select
        flow_id,
        count(*) as answer_key_count,
        min(first_answered_at) as first_answered_at,
        -- byte order, whatever the database collation
        row_number() over (order by flow_id collate "C") as flow_number

    from flow_keys
    group by flow_id

),

named as (

    select
        flow_id,
        '{{ var("chatbot_flow_views_schema") }}' as view_schema,
        {{ chatbot_identifier('flow_id', 'flow_number', 'false') }} as view_name,
        answer_key_count,
        first_answered_at

    from aggregated

)

select * from named
