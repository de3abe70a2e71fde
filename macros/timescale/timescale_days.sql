{#- A whole number of days (`what` names its setting in the error) as {'sql': "interval 'N days'", 'seconds': ...}. -#}
{% macro timescale_days(value, what) -%}
    {%- set days = value | string | trim -%}
    {%- if not modules.re.fullmatch('[1-9][0-9]*', days) -%}
        {{ exceptions.raise_compiler_error(what ~ " must be a whole number of days, got '" ~ days ~ "'") }}
    {%- endif -%}
    {{ return({'sql': "interval '" ~ days ~ " days'", 'seconds': (days | int) * 86400}) }}
{%- endmacro %}
