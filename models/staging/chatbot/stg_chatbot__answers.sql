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
        -- without an offset a timestamp is UTC, whatever the session's time zone
        case
            when element ->> 'timestamp' ~ '(Z|[+-]\d{2}(:?\d{2})?)$'
                then cast(element ->> 'timestamp' as timestamptz)
            else cast(element ->> 'timestamp' as timestamp) at time zone 'UTC'
        end as answered_at,
        element -> 'content' as answer_content,
        content_keys

    from source

)

select * from renamed
