with

source as (

    select * from {{ source('chatbot', 'answers') }}

),

renamed as (

    select
        load_id,
        element_index,
        source_file,
        file_hour,
        loaded_at,
        element ->> 'customer' as customer_id,
        element ->> 'flow' as flow_id,
        element ->> 'session' as session_id,
        -- the loader only lands timestamps with a UTC offset, so this is the same instant anywhere
        cast(element ->> 'timestamp' as timestamptz) as answered_at,
        element -> 'content' as answer_content,
        content_keys

    from source

)

select * from renamed
