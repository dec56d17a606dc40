-- The policy's hysteresis bands (routing.hysteresis.band), one row per (lane, task class, horizon tier), resolved
-- like a strict threshold by policy_band_rows() (macros/routing_policy.sql): a number for every task and tier, or
-- a {classification, multiclass, regression} mapping (docs/decision-semantics.md, "Hysteresis").
-- depends_on: {{ ref('base_policy__files') }} (the policy's bytes, parsed by load_routing_policy)
{%- set rows = [] -%}
{%- for r in policy_band_rows(load_routing_policy()) -%}
    {%- do rows.append([sql_string(r[0]), sql_string(r[1]), sql_string(r[2]), sql_number(r[3]), sql_string(r[4])]) -%}
{%- endfor %}

with

bands as (

    {{ values_relation([
        ('lane', 'varchar'), ('task_class', 'varchar'), ('horizon_tier', 'varchar'), ('band', 'double'),
        ('band_source', 'varchar')], rows) }}

)

select * from bands
