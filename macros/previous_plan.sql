-- noqa: disable=LT02,LT05
-- (this file holds only Jinja macros: sqlfluff checks the indentation of the template source, which renders to nothing)
{#- previous_lanes_file(): the previous plan's lanes (parquet the driver writes) — the dbt var previous_lanes_file
    (dbt_project.yml; '' = no previous plan, a first run). -#}
{% macro previous_lanes_file() %}
    {{- return(var('previous_lanes_file')) -}}
{% endmacro %}

{#-
    previous_lanes_rows(): the rows of the previous plan's lanes file (target, symbol, state, route, runs_in_state),
    or, without one, an empty relation with the same typed columns (docs/decision-semantics.md, "Hysteresis").
-#}
{% macro previous_lanes_rows() %}
    {%- if previous_lanes_file() -%}
        {{- return("select target, symbol, state, route, runs_in_state from " ~ input_source('previous_plan', 'lanes_parquet')) -}}
    {%- endif -%}
    {{- return(values_relation([('target', 'varchar'), ('symbol', 'varchar'), ('state', 'varchar'), ('route', 'varchar'),
        ('runs_in_state', 'bigint')], [])) -}}
{% endmacro %}
