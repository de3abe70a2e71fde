{{ config(materialized='view') }}

{#- The days (var notification_day_timezone) of the WhatsApp notifications rolled up since the
    billing ledger last looked (int_notification_billing_ranges): the days whose bill may have
    changed. The service notes them in ops.billing_days after every minutely run. #}

with

notifications as (

    select * from {{ ref('fct_notifications') }}

),

increment as (

    select * from {{ ref('int_notification_billing_ranges') }}

),

new_notifications as (

    select
        notifications.channel,
        notifications.event_at

    from notifications
    {{ kafka_increment_rows('notifications') }}

),

days_changed as (

    select distinct cast(timezone({{ notification_day_timezone() }}, event_at) as date) as billing_date

    from new_notifications
    where channel = 'whatsapp'

)

select * from days_changed
