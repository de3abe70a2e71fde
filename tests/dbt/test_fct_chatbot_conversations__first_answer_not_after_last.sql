select
    customer_id,
    flow_id,
    session_id,
    first_answer_at,
    last_answer_at

from {{ ref('fct_chatbot_conversations') }}
where first_answer_at > last_answer_at
