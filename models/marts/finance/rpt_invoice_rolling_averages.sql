{#- One row per account and reference month, from the month after the account's first invoice
    to the month after the latest invoice month in the data. Averages are exact numerics;
    reports truncate them to cents. -#}

with

account_months as (

    select * from {{ ref('int_invoices_aggregated_to_account_months') }}

),

account_ranges as (

    select
        customer_id,
        account_id,
        min(invoice_month) as first_invoice_month,
        max(max(invoice_month)) over () as last_invoice_month

    from account_months
    group by customer_id, account_id

),

-- every calendar month of every account, so a missing month is a row with a null total
months_spined as (

    select
        account_ranges.customer_id,
        account_ranges.account_id,
        account_ranges.first_invoice_month,
        cast(spine.calendar_month as date) as calendar_month

    from account_ranges
    cross join lateral generate_series(
        account_ranges.first_invoice_month,
        account_ranges.last_invoice_month + interval '1 month',
        interval '1 month'
    ) as spine (calendar_month)

),

totals_joined as (

    select
        months_spined.customer_id,
        months_spined.account_id,
        months_spined.first_invoice_month,
        months_spined.calendar_month,
        account_months.invoice_total

    from months_spined
    left join account_months
        on
            months_spined.customer_id = account_months.customer_id
            and months_spined.account_id = account_months.account_id
            and months_spined.calendar_month = account_months.invoice_month

),

-- the months strictly before each reference month; the spine is contiguous, so rows = months
windows_summed as (

    select
        customer_id,
        account_id,
        first_invoice_month,
        calendar_month as reference_month,
        count(invoice_total) over last_3_months as invoiced_months_in_last_3,
        sum(invoice_total) over last_3_months as invoice_total_last_3_months,
        count(invoice_total) over last_6_months as invoiced_months_in_last_6,
        sum(invoice_total) over last_6_months as invoice_total_last_6_months

    from totals_joined
    window
        last_3_months as (
            partition by customer_id, account_id order by calendar_month
            rows between 3 preceding and 1 preceding
        ),
        last_6_months as (
            partition by customer_id, account_id order by calendar_month
            rows between 6 preceding and 1 preceding
        )

),

final as (

    select
        customer_id,
        account_id,
        reference_month,
        case
            when invoiced_months_in_last_3 = 3 then invoice_total_last_3_months / 3
        end as avg_invoices_last_3_months,
        case
            when invoiced_months_in_last_6 = 6 then invoice_total_last_6_months / 6
        end as avg_invoices_last_6_months

    from windows_summed
    where reference_month > first_invoice_month

)

select * from final
