{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='billing_date',
        indexes=[{'columns': ['billing_date', 'customer_id'], 'unique': true}],
        tags=['daily'],
    )
}}

{#- Daily billing: one row per customer with WhatsApp notifications on the billed day (var
    billing_date, default: the last day the watermark has closed). Each run replaces that day's rows,
    so re-running a day is idempotent; rpt_notification_billing_runs keeps every run. The count is the
    panel's, so billing and panel always agree. #}
-- depends_on: {{ ref('rpt_notification_watermark') }}

with

panel as (

    select * from {{ ref('rpt_notification_panel') }}

),

prices as (

    select * from {{ ref('notification_prices') }}

),

customer_prices as (

    select * from {{ ref('notification_customer_prices') }}

),

billed_day as (

    select
        customer_id,
        customer_name,
        panel_date as billing_date,
        whatsapp_notifications

    from panel
    where
        panel_date = {{ notification_billing_date() }}
        and whatsapp_notifications > 0

),

-- the price list version in force on the day
list_price as (

    select unit_price_brl

    from prices
    where
        channel = 'whatsapp'
        and valid_from <= {{ notification_billing_date() }}
    order by valid_from desc
    limit 1

),

customer_price as (

    select distinct on (customer_id)
        customer_id,
        unit_price_brl

    from customer_prices
    where
        channel = 'whatsapp'
        and valid_from <= {{ notification_billing_date() }}
    order by customer_id asc, valid_from desc

),

priced as (

    select
        billed_day.billing_date,
        billed_day.customer_id,
        billed_day.customer_name,
        billed_day.whatsapp_notifications,
        coalesce(customer_price.unit_price_brl, list_price.unit_price_brl) as unit_price_brl,
        cast(
            billed_day.whatsapp_notifications
            * coalesce(customer_price.unit_price_brl, list_price.unit_price_brl)
            as numeric(14, 2)
        ) as amount_brl,
        {{ sql_literal(invocation_id) }} as billing_run_id,
        cast({{ sql_literal(run_started_at.isoformat()) }} as timestamptz) as billed_at

    from billed_day
    left join list_price on true
    left join customer_price
        on billed_day.customer_id = customer_price.customer_id

)

select * from priced
