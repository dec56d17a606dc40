-- The policy's score thresholds, one row per (semantics, lane, level, task class, horizon tier), resolved from
-- the policy YAML by policy_threshold_rows() (docs/decision-semantics.md, "Thresholds"): a plain number applies
-- to every task and tier; a mapping gives `classification` (default 0.5) and `regression` (a number, or per tier
-- with `default`, else -0.5). Both semantics are resolved so a model can join on the one in force; they differ in
-- two places:
--   * multiclass: strict uses the optional `multiclass` key (else `classification`); foxml always `classification`;
--   * experimental with a plain number: foxml applies it to every task (0.52 R² for regression); strict applies it
--     to classification and multiclass, and holds regression to the lane's own regression min_score for the tier.
-- depends_on: {{ ref('base_policy__files') }} (the policy's bytes, parsed by load_routing_policy)
{%- set rows = [] -%}
{%- for r in policy_threshold_rows(load_routing_policy()) -%}
    {%- do rows.append([
        sql_string(r[0]), sql_string(r[1]), sql_string(r[2]), sql_string(r[3]), sql_string(r[4]), sql_number(r[5]),
        sql_string(r[6])]) -%}
{%- endfor %}

with

thresholds as (

    {{ values_relation([
        ('semantics', 'varchar'), ('lane', 'varchar'), ('level', 'varchar'), ('task_class', 'varchar'),
        ('horizon_tier', 'varchar'), ('threshold', 'double'), ('threshold_source', 'varchar')], rows) }}

)

select * from thresholds
