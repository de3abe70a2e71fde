{{
    config(
        enabled=target.name == 'timescale',
        full_refresh=false,
        materialized='continuous_aggregate',
        refresh_start_offset=var('timescale_rollup_refresh_start_offset'),
        refresh_end_offset=var('timescale_rollup_refresh_end_offset'),
        refresh_schedule_interval=var('timescale_rollup_refresh_schedule_interval'),
        indexes=[{'columns': ['customer_id', 'channel', 'minute_at']}],
        post_hook=[{'sql': '{{ timescale_refresh_billing_day() }}', 'transaction': false}],
    )
}}

{#- The per-minute rollup on the timescale target: a real-time TimescaleDB continuous aggregate with
    the name and columns of the offset-incremental model one folder up, which the other targets
    build. fct_notifications is a hypertable on event_at there and holds each event once, so
    count(*) counts each event once. The refresh policy materializes closed minutes; the minutes
    above its watermark are aggregated from fct_notifications at query time, so the rollup always
    covers what fct_notifications holds (macros/timescale/continuous_aggregate.sql). With var
    billing_date set (`warehouse bill`) the post-hook also refreshes that day, late events included.
    A continuous aggregate is one query over the hypertable, bucketed on its time column: no CTEs.
    Never rebuilt (full_refresh=false): its minutes older than fct_notifications' retention
    (DETAIL_RETENTION_DAYS) exist nowhere else. #}

select
    customer_id,
    channel,
    time_bucket(interval '1 minute', event_at) as minute_at,
    count(*) as notification_count

from {{ ref('fct_notifications') }}
group by customer_id, channel, time_bucket(interval '1 minute', event_at)
