with

invoices as (

    select * from {{ ref('stg_invoices__invoices') }}

),

aggregated as (

    select
        customer_id,
        account_id,
        invoice_month,
        sum(invoice_amount) as invoice_total,
        count(*) as invoice_count

    from invoices
    group by customer_id, account_id, invoice_month

)

select * from aggregated
