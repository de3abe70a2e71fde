{{ config(materialized='view') }}

{#- The per-customer WhatsApp panel, one row per customer and day (in var notification_day_timezone)
    from the customer's first day to the watermark's: rolled-up minutes plus the raw tail not rolled
    up yet, so it is as fresh as the loader's last commit whenever the rollup last ran.
    Filter on customer_id and panel_date: both reach the indexes (per-customer day = a range of
    minutes in the rollup, a few probes in the tail). #}

with

customers as (

    select * from {{ ref('dim_notification_customers') }}

),

rollup as (

    select * from {{ ref('fct_notifications_per_minute') }}

),

-- referenced twice; not materialized so a customer filter reaches the raw index in both places
tail as not materialized (

    select * from {{ ref('int_notifications_awaiting_rollup') }}

),

watermark as (

    select * from {{ ref('rpt_notification_watermark') }}

),

-- customers rolled up so far plus those seen only in the tail; the latest name wins
sightings as (

    select
        customer_id,
        customer_name,
        first_event_at,
        last_event_at

    from customers

    union all

    select
        customer_id,
        customer_name,
        event_at as first_event_at,
        event_at as last_event_at

    from tail

),

customers_seen as (

    select
        customer_id,
        (array_agg(customer_name order by last_event_at desc))[1] as customer_name,
        min(first_event_at) as first_event_at

    from sightings
    group by customer_id

),

panel_days as (

    select
        customers_seen.customer_id,
        customers_seen.customer_name,
        cast(days.day_start as date) as panel_date,
        timezone({{ notification_day_timezone() }}, days.day_start) as day_starts_at,
        timezone({{ notification_day_timezone() }}, days.day_start + interval '1 day') as day_ends_at,
        watermark.last_updated_at

    from customers_seen
    cross join watermark
    cross join lateral generate_series(
        cast(cast(timezone({{ notification_day_timezone() }}, customers_seen.first_event_at) as date) as timestamp),
        cast(watermark.watermark_date as timestamp),
        interval '1 day'
    ) as days (day_start)

),

counted as (

    select
        panel_days.customer_id,
        panel_days.customer_name,
        panel_days.panel_date,
        cast(
            coalesce(rolled_up.notification_count, 0) + coalesce(pending.notification_count, 0) as bigint
        ) as whatsapp_notifications,
        panel_days.last_updated_at

    from panel_days
    left join lateral (
        select sum(rollup.notification_count) as notification_count
        from rollup
        where
            rollup.customer_id = panel_days.customer_id
            and rollup.channel = 'whatsapp'
            and rollup.minute_at >= panel_days.day_starts_at
            and rollup.minute_at < panel_days.day_ends_at
    ) as rolled_up on true
    left join lateral (
        select count(distinct tail.message_id) as notification_count
        from tail
        where
            tail.customer_id = panel_days.customer_id
            and tail.channel = 'whatsapp'
            and tail.event_at >= panel_days.day_starts_at
            and tail.event_at < panel_days.day_ends_at
    ) as pending on true

)

select * from counted
