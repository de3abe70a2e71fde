{#- A duration such as `3 hours` (`what` names its setting in the error) as
    {'sql': "interval '3 hours'", 'seconds': 10800}. Checked against a strict pattern, so a setting
    cannot inject SQL into the DDL. -#}
{% macro timescale_duration(value, what) -%}
    {%- set value = value | string | trim -%}
    {%- set parsed = modules.re.fullmatch('([1-9][0-9]*) (second|minute|hour|day)s?', value) -%}
    {%- if not parsed -%}
        {{ exceptions.raise_compiler_error(
            what ~ " must be a duration such as '3 hours' (seconds, minutes, hours or days), got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {%- set unit_seconds = {'second': 1, 'minute': 60, 'hour': 3600, 'day': 86400} -%}
    {{ return({
        'sql': "interval '" ~ value ~ "'",
        'seconds': (parsed.group(1) | int) * unit_seconds[parsed.group(2)],
    }) }}
{%- endmacro %}
