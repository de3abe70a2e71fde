{#- PostgreSQL would silently truncate a longer name (and then fail on a duplicate). -#}
select
    flow_id,
    answer_key,
    column_name

from {{ ref('dim_chatbot_flow_keys') }}
where
    octet_length(column_name) not between 1 and 63
    or {{ chatbot_is_fixed_column('column_name') }}
