with

account_months as (

    select * from {{ ref('int_invoices_aggregated_to_account_months') }}

),

summarised as (

    select
        customer_id,
        account_id,
        min(invoice_month) as first_invoice_month,
        max(invoice_month) as last_invoice_month,
        count(*) as invoiced_month_count

    from account_months
    group by customer_id, account_id

)

select * from summarised
