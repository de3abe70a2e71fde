{#- Inside a DO block: (re)creates a TimescaleDB job unless one matching `job_matches` (a condition on
    timescaledb_information.jobs as `job`) exists, so a changed setting replaces the job and an
    unchanged one leaves it (and its schedule and history) alone. -#}
{% macro timescale_ensure_job_sql(job_matches, remove_call, add_call) -%}
if not exists (
    select from timescaledb_information.jobs as job
    where
        {{ job_matches | indent(8) }}
) then
    perform {{ remove_call }};
    perform {{ add_call }};
end if;
{%- endmacro %}
