{{
    config(
        materialized='incremental',
        incremental_strategy='upsert',
        unique_key='customer_id',
        upsert_set={
            'customer_name': 'case when excluded.last_event_at >= existing.last_event_at'
                ~ ' then excluded.customer_name else existing.customer_name end',
            'first_event_at': 'least(existing.first_event_at, excluded.first_event_at)',
            'last_event_at': 'greatest(existing.last_event_at, excluded.last_event_at)',
        },
        indexes=[{'columns': ['customer_id'], 'unique': true}],
        pre_hook="{{ kafka_increment_begin(after='fct_notifications') }}",
        post_hook="{{ kafka_increment_end() }}",
        tags=['minutely'],
    )
}}

{#- One row per customer with the name of its latest notification (by event time, so a late event
    does not bring an old name back). #}

with

notifications as (

    select * from {{ ref('fct_notifications') }}

),

increment as (

    {{ kafka_increment('dim_notification_customers') }}

),

new_notifications as (

    select
        notifications.message_id,
        notifications.customer_id,
        notifications.customer_name,
        notifications.event_at

    from notifications
    {{ kafka_increment_rows('notifications') }}

),

summarised as (

    select
        customer_id,
        (array_agg(customer_name order by event_at desc, message_id desc))[1] as customer_name,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at

    from new_notifications
    group by customer_id

)

select * from summarised
