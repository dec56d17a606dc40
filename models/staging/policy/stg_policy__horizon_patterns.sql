-- The policy's horizon patterns (routing.horizon_patterns), in the order they are tried: the first pattern that
-- matches a target name gives its horizon, the number in the first capture group times the multiplier (minutes).
-- depends_on: {{ ref('base_policy__files') }} (the policy's bytes, parsed by load_routing_policy)
{%- set rows = [] -%}
{%- for p in load_routing_policy().get('horizon_patterns', []) -%}
    {%- do rows.append([loop.index | string, sql_string(p['regex']), sql_number(p['multiplier'])]) -%}
{%- endfor %}

with

patterns as (

    {{ values_relation([('pattern_order', 'integer'), ('regex', 'varchar'), ('multiplier', 'integer')], rows) }}

)

select * from patterns
