{#- The views created by fct_chatbot_conversations' post-hook: one per flow, exactly the fixed
    columns and then dim_chatbot_flow_keys' columns in order (the first 1,595), with their types; no
    other view. -#}
-- depends_on: {{ ref('fct_chatbot_conversations') }}

with

flows as (

    select * from {{ ref('dim_chatbot_flows') }}

),

flow_keys as (

    select * from {{ ref('dim_chatbot_flow_keys') }}

),

fixed_columns as (

    select
        column_name,
        data_type,
        column_position

    from (
        values
        ('customer', 'text', 1),
        ('flow', 'text', 2),
        ('session', 'text', 3),
        ('first_answer_dt', 'timestamp with time zone', 4),
        ('last_answer_dt', 'timestamp with time zone', 5)
    ) as fixed (column_name, data_type, column_position)

),

expected as (

    select
        flows.view_name,
        fixed_columns.column_position,
        fixed_columns.column_name,
        fixed_columns.data_type

    from flows
    cross join fixed_columns

    union all

    select
        flows.view_name,
        flow_keys.column_position + 5 as column_position,
        flow_keys.column_name,
        flow_keys.column_type as data_type

    from flows
    inner join flow_keys
        on flows.flow_id = flow_keys.flow_id
    -- a view has at most 1,600 columns
    where flow_keys.column_position <= 1595

),

actual as (

    select
        table_name as view_name,
        ordinal_position as column_position,
        column_name,
        data_type

    from information_schema.columns
    where table_schema = '{{ var("chatbot_flow_views_schema") }}'

),

compared as (

    select
        coalesce(expected.view_name, actual.view_name) as view_name,
        coalesce(expected.column_position, actual.column_position) as column_position,
        expected.column_name as expected_column_name,
        expected.data_type as expected_data_type,
        actual.column_name as actual_column_name,
        actual.data_type as actual_data_type

    from expected
    full outer join actual
        on
            expected.view_name = actual.view_name
            and expected.column_position = actual.column_position
            and expected.column_name = actual.column_name
            and expected.data_type = actual.data_type

)

select * from compared
where expected_column_name is null or actual_column_name is null
