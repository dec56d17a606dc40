-- The effective routing policy in long form: one row per leaf key (dotted path, list positions in brackets),
-- after validation and defaults, for ad-hoc SQL and diffs between two policies.
-- depends_on: {{ ref('base_policy__files') }} (the policy's bytes, parsed by load_routing_policy)
{%- set entries = [] -%}
{%- set rows = [] -%}
{%- if execute -%}
    {%- do policy_flatten('routing', load_routing_policy(), entries) -%}
{%- endif -%}
{%- for e in entries -%}
    {%- do rows.append([sql_string(e[0]), sql_string(e[1]), sql_string(e[2])]) -%}
{%- endfor %}

with

entries as (

    {{ values_relation([('policy_key', 'varchar'), ('policy_value', 'varchar'), ('value_type', 'varchar')], rows) }}

)

select * from entries
