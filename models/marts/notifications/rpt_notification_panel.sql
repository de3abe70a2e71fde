{{ config(materialized='view') }}

{#- The per-customer WhatsApp panel, one row per customer and day (in var notification_day_timezone)
    from the customer's first day to the watermark's: rolled-up minutes plus the raw tail not rolled
    up yet, so counts are as fresh as the loader's last commit whenever the rollup last ran. Customers
    come from dim_notification_customers, plus those whose first events are still in the raw tail,
    named as the dimension names them (the latest event's name), so a new customer is counted within
    seconds too (is_new_customer until the dimension stores them). Filter on customer_id and
    panel_date: a one-customer day is a range of the rollup's index and one index range per
    partition in raw; add `not is_new_customer` for a customer of the dimension and the search of
    the tail for new customers is left out of the plan. customers and events are read more than
    once: not materialized, so a customer filter reaches their indexes. #}

with

customers as not materialized (

    select * from {{ ref('dim_notification_customers') }}

),

minutes as (

    select * from {{ ref('fct_notifications_per_minute') }}

),

events as not materialized (

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

-- customers with events in the raw tail (from the lower of the rollup's and the dimension's offsets);
-- grouped per partition, so the panel's customer filter reaches the raw customer index inside
tail_customer_ids as (

    select tail_customers.customer_id

    from tail_ranges
    cross join
        lateral (
            select events.customer_id
            from events
            where
                events.kafka_topic = tail_ranges.kafka_topic
                and events.kafka_partition = tail_ranges.kafka_partition
                and events.kafka_offset >= tail_ranges.customers_from_offset
            group by events.customer_id
        ) as tail_customers
    group by tail_customers.customer_id

),

-- of those, the customers the dimension has not stored yet, named by their latest valid event (event
-- time, then message id: dim_notification_customers' rule)
new_customers as (

    select
        tail_customer_ids.customer_id,
        named.customer_name,
        named.first_event_at

    from tail_customer_ids
    -- (ST05: the lateral reads tail_customer_ids, so it cannot be a CTE.)
    cross join lateral (  -- noqa: ST05
        select
            (array_agg(tail.customer_name order by tail.event_at desc, tail.message_id desc))[1]
                as customer_name,
            min(tail.event_at) as first_event_at
        from tail_ranges
        cross join
            lateral (
                select
                    events.customer_name,
                    events.message_id,
                    events.event_at,
                    events.is_valid
                from events
                where
                    events.customer_id = tail_customer_ids.customer_id
                    and events.kafka_topic = tail_ranges.kafka_topic
                    and events.kafka_partition = tail_ranges.kafka_partition
                    and events.kafka_offset >= tail_ranges.customers_from_offset
                offset 0  -- noqa: AM09
            ) as tail
        where
            tail.is_valid
            -- refers to the outer row only: tested before the tail is read, so a known customer costs
            -- one index probe here
            and not exists (
                select 1
                from customers
                where customers.customer_id = tail_customer_ids.customer_id
            )
        having count(*) > 0
    ) as named

),

-- is_new_customer: a constant per branch, so a filter on it drops the other branch at planning time
panel_customers as (

    select
        customer_id,
        customer_name,
        first_event_at,
        false as is_new_customer
    from customers

    union all

    select
        customer_id,
        customer_name,
        first_event_at,
        true as is_new_customer
    from new_customers

),

panel_days as (

    select
        panel_customers.customer_id,
        panel_customers.customer_name,
        cast(spine.day_start as date) as panel_date,
        timezone({{ notification_day_timezone() }}, spine.day_start) as day_starts_at,
        timezone({{ notification_day_timezone() }}, spine.day_start + interval '1 day') as day_ends_at,
        watermark.last_updated_at,
        panel_customers.is_new_customer

    from panel_customers
    cross join watermark
    cross join lateral generate_series(
        cast(
            cast(
                timezone({{ notification_day_timezone() }}, panel_customers.first_event_at) as date
            ) as timestamp
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
        panel_days.last_updated_at,
        panel_days.is_new_customer

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
