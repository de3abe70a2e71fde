{{ config(materialized='view') }}

{#- The per-customer WhatsApp panel, one row per customer and day (in var notification_day_timezone)
    from the customer's first day to the watermark's: rolled-up minutes plus the raw tail not rolled
    up yet, so counts are as fresh as the loader's last commit whenever the rollup last ran. Customers
    come from dim_notification_customers: one whose very first event is still in the tail appears
    with the next minutely run. Filter on customer_id and panel_date: a one-customer day is a range of
    the rollup's index and one index range per partition in raw. #}

with

customers as (

    select * from {{ ref('dim_notification_customers') }}

),

minutes as (

    select * from {{ ref('fct_notifications_per_minute') }}

),

events as (

    select * from {{ ref('stg_notifications__events') }}

),

notifications as (

    select * from {{ ref('fct_notifications') }}

),

tail_ranges as (

    select * from {{ ref('int_notification_tail_ranges') }}

),

watermark as (

    select * from {{ ref('rpt_notification_watermark') }}

),

panel_days as (

    select
        customers.customer_id,
        customers.customer_name,
        cast(spine.day_start as date) as panel_date,
        timezone({{ notification_day_timezone() }}, spine.day_start) as day_starts_at,
        timezone({{ notification_day_timezone() }}, spine.day_start + interval '1 day') as day_ends_at,
        watermark.last_updated_at

    from customers
    cross join watermark
    cross join lateral generate_series(
        cast(
            cast(timezone({{ notification_day_timezone() }}, customers.first_event_at) as date) as timestamp
        ),
        cast(watermark.watermark_date as timestamp),
        interval '1 day'
    ) as spine (day_start)

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
    -- the day's minutes of the customer: a range of the rollup's (customer_id, channel, minute_at) index
    left join lateral (
        select sum(minutes.notification_count) as notification_count
        from minutes
        where
            minutes.customer_id = panel_days.customer_id
            and minutes.channel = 'whatsapp'
            and minutes.minute_at >= panel_days.day_starts_at
            and minutes.minute_at < panel_days.day_ends_at
    ) as rolled_up on true
    -- the customer's events in the raw tail, each once, minus redeliveries of events the rollup
    -- already counted (their first delivery lies below the rollup's offsets), by fct_notifications' key.
    -- Grouped: count(distinct (event_at, message_id)) sorts records, ~1 ms per 1,000 events.
    -- (ST05: the lateral reads panel_days, so it cannot be a CTE.)
    left join lateral (  -- noqa: ST05
        select count(*) as notification_count
        from (
            select
                tail_events.event_at,
                tail_events.message_id
            from tail_ranges
            -- per partition a range of the raw (customer_id, topic, partition, offset) index; `offset 0`
            -- keeps the planner from turning it into a scan of all the customer's rows ever landed
            cross join
                lateral (
                    select
                        events.message_id,
                        events.channel,
                        events.event_at,
                        events.is_valid
                    from events
                    where
                        events.customer_id = panel_days.customer_id
                        and events.kafka_topic = tail_ranges.kafka_topic
                        and events.kafka_partition = tail_ranges.kafka_partition
                        and events.kafka_offset >= tail_ranges.from_offset
                    offset 0  -- noqa: AM09
                ) as tail_events
            where
                tail_events.is_valid
                and tail_events.channel = 'whatsapp'
                and tail_events.event_at >= panel_days.day_starts_at
                and tail_events.event_at < panel_days.day_ends_at
                and not exists (
                    select 1
                    from notifications
                    inner join tail_ranges as counted_ranges
                        on
                            notifications.kafka_topic = counted_ranges.kafka_topic
                            and notifications.kafka_partition = counted_ranges.kafka_partition
                    where
                        notifications.customer_id = panel_days.customer_id
                        and notifications.event_at = tail_events.event_at
                        and notifications.message_id = tail_events.message_id
                        and notifications.kafka_offset < counted_ranges.from_offset
                )
            group by tail_events.event_at, tail_events.message_id
        ) as tail_notifications
    ) as pending on true

)

select * from counted
