with

source as (

    select * from {{ source('invoices', 'invoices') }}

),

renamed as (

    select
        load_id,
        line_number,
        source_file,
        loaded_at,
        trim(customer) as customer_id,
        trim(account) as account_id,
        cast(date_trunc('month', cast(trim(month) as date)) as date) as invoice_month,
        cast(trim(invoice) as numeric) as invoice_amount

    from source

)

select * from renamed
