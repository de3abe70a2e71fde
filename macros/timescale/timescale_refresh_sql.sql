{#- Materializes the closed buckets of [window_start, window_end) that are missing or invalidated by
    changes to the hypertable (both SQL expressions; null = unbounded). Outside a transaction only:
    after a commit (post-hooks with `transaction: false`). -#}
{% macro timescale_refresh_sql(relation, window_start, window_end) -%}
call refresh_continuous_aggregate({{ timescale_regclass(relation) }}, {{ window_start }}, {{ window_end }})
{%- endmacro %}
