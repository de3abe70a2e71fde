{{ config(materialized='view') }}

{#- The pipeline's watermark, one row: the latest minute of event time the warehouse has landed,
    rolled up or still in the raw tail. It is the greater of the rollup's latest minute and the minute
    of the newest valid event of each partition among its last {{ var('watermark_lookback_offsets') }} offsets (a range of the
    primary key, so the panel can afford it on every query): the very last offset may be a
    transaction's commit marker or a quarantined message, which land no event. Event times more than
    a minute ahead of the clock (a producer's bad clock) are ignored.
    In live operation it trails the wall clock by at most a minute; on replayed data it is data time. #}

with

minutes as (

    select * from {{ ref('fct_notifications_per_minute') }}

),

offsets as (

    select * from {{ ref('stg_notifications__kafka_offsets') }}

),

events as (

    select * from {{ ref('stg_notifications__events') }}

),

rolled_up as (

    select max(minute_at) as last_minute_at

    from minutes
    where minute_at <= now() + interval '1 minute'

),

newest_landed as (

    select max(date_trunc('minute', newest.event_at, 'UTC')) as last_minute_at

    -- a bounded range of the primary key per partition (an open-ended one would sort the whole
    -- partition through the staging view)
    from offsets
    cross join
        lateral (
            select events.event_at
            from events
            where
                events.kafka_topic = offsets.kafka_topic
                and events.kafka_partition = offsets.kafka_partition
                and events.kafka_offset >= offsets.next_offset - {{ var('watermark_lookback_offsets') }}
                and events.kafka_offset < offsets.next_offset
                and events.event_at <= now() + interval '1 minute'
            order by events.kafka_offset desc
            limit 1
        ) as newest

),

final as (

    select
        greatest(rolled_up.last_minute_at, newest_landed.last_minute_at) as last_updated_at,
        cast(
            timezone(
                {{ notification_day_timezone() }},
                greatest(rolled_up.last_minute_at, newest_landed.last_minute_at)
            ) as date
        ) as watermark_date

    from rolled_up
    cross join newest_landed

)

select * from final
