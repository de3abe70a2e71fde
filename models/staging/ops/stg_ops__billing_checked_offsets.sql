with

source as (

    select * from {{ source('ops', 'billing_checked_offsets') }}

),

renamed as (

    select
        kafka_topic,
        kafka_partition,
        checked_offset,
        checked_batch_id,
        checked_at

    from source

)

select * from renamed
