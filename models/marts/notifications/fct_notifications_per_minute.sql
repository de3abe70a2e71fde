{{
    config(
        materialized='incremental',
        incremental_strategy='upsert',
        unique_key=['customer_id', 'channel', 'minute_at'],
        upsert_set={'notification_count': 'existing.notification_count + excluded.notification_count'},
        indexes=[
            {'columns': ['customer_id', 'channel', 'minute_at'], 'unique': true},
            {'columns': ['minute_at']},
        ],
        pre_hook="{{ kafka_increment_begin(after='fct_notifications') }}",
        post_hook="{{ kafka_increment_end() }}",
        tags=['minutely'],
    )
}}

{#- The per-minute rollup ("continuous aggregate"). Each run counts the notifications that
    fct_notifications stored since the previous run (by Kafka offsets) and adds them to their minute,
    however old: a late event updates its own minute. Its name and columns are a contract: the
    timescale target replaces it with a continuous aggregate of the same shape. #}

with

notifications as (

    select * from {{ ref('fct_notifications') }}

),

increment as (

    {{ kafka_increment('fct_notifications_per_minute') }}

),

new_notifications as (

    select
        notifications.customer_id,
        notifications.channel,
        notifications.event_at

    from notifications
    {{ kafka_increment_rows('notifications') }}

),

rolled_up as (

    select
        customer_id,
        channel,
        date_trunc('minute', event_at, 'UTC') as minute_at,
        count(*) as notification_count

    from new_notifications
    group by customer_id, channel, date_trunc('minute', event_at, 'UTC')

)

-- in key order, the upsert meets the unique index's pages one after another
select * from rolled_up
order by customer_id asc, channel asc, minute_at asc
