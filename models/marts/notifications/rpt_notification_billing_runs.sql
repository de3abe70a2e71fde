{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        indexes=[{'columns': ['billing_date', 'billed_at']}],
        tags=['daily'],
    )
}}

{#- Every billing run's figures, never replaced: when late events change a day already billed, the
    runs of that day show the change. Full refresh is disabled so history cannot be dropped by accident. #}

with

billing as (

    select * from {{ ref('rpt_notification_billing') }}

),

this_run as (

    select
        billing_run_id,
        billed_at,
        billing_date,
        customer_id,
        customer_name,
        whatsapp_notifications,
        unit_price_brl,
        amount_brl

    from billing
    where billing_run_id = {{ sql_literal(invocation_id) }}

)

select * from this_run
