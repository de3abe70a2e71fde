with

source as (

    select * from {{ source('notifications', 'kafka_offsets') }}

),

renamed as (

    select
        kafka_topic,
        kafka_partition,
        next_offset,
        updated_at as committed_at

    from source

)

select * from renamed
