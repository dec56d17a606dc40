-- The effective routing policy (one row) after validation and defaults: every setting of the policy YAML as a
-- typed column (thresholds are in stg_policy__thresholds, every key in stg_policy__entries).
-- load_routing_policy() has applied every default of routing_policy_schema() (macros/routing_policy.sql), so no
-- default is written here; the `{}` and `[]` below only stand in while dbt parses, when the policy is empty.
-- depends_on: {{ ref('base_policy__files') }} (the policy's bytes, parsed by load_routing_policy)
{%- set p = load_routing_policy() -%}
{%- set exp = p.get('experimental', {}) -%}
{%- set stab = p.get('stability_classification', {}) -%}
{%- set mins = p.get('min_sample_size', {}) -%}
{%- set allow = p.get('stability_allowlist', {}) -%}
{%- set hyst = p.get('hysteresis', {}) -%}
{%- set exp_score = exp.get('min_score') %}

with

policy as (

    select
        {{ sql_string(policy_path()) }} as policy_path,
        {{ sql_string(p.get('semantics')) }} as semantics,
        {{ sql_string(p.get('score_stage')) }} as score_stage,
        {{ sql_bool(p.get('dev_mode')) }} as dev_mode,
        cast({{ sql_number(p.get('dev_mode_min_sample_size')) }} as bigint) as dev_mode_min_sample_size,
        cast({{ sql_number(mins.get('cross_sectional')) }} as bigint) as min_sample_size_cross_sectional,
        cast({{ sql_number(mins.get('symbol')) }} as bigint) as min_sample_size_symbol,
        {{ sql_bool(p.get('block_on_leakage')) }} as block_on_leakage,
        {{ sql_string(p.get('both_strong_behavior')) }} as both_strong_behavior,
        {{ sql_bool(p.get('enable_experimental_lane')) }} as enable_experimental_lane,
        {{ sql_number(exp_score if exp_score is number else none) }} as experimental_min_score,
        {{ 'true' if exp_score is number else 'false' }} as experimental_min_score_is_scalar,
        {{ sql_string_list(exp.get('allowed_stabilities', [])) }} as experimental_allowed_stabilities,
        {{ sql_number(exp.get('max_fraction_symbols_per_target')) }} as experimental_max_fraction_symbols_per_target,
        {{ sql_string_list(allow.get('cross_sectional', [])) }} as stability_allowlist_cross_sectional,
        {{ sql_string_list(allow.get('symbol', [])) }} as stability_allowlist_symbol,
        {{ sql_bool(p.get('require_safe_features_only')) }} as require_safe_features_only,
        {{ sql_string_list(p.get('allowed_feature_leakage_status', [])) }} as allowed_feature_leakage_status,
        cast({{ sql_number(p.get('require_min_successful_families')) }} as bigint) as require_min_successful_families,
        {{ sql_bool(p.get('log_decision_reasons')) }} as log_decision_reasons,
        {{ sql_string_list(p.get('dump_plan_as', [])) }} as dump_plan_as,
        {{ sql_string_list(p.get('training_plan_files', [])) }} as training_plan_files,
        {{ sql_number(stab.get('stable_overlap_min')) }} as stability_stable_overlap_min,
        {{ sql_number(stab.get('drifting_overlap_min')) }} as stability_drifting_overlap_min,
        {{ sql_number(stab.get('stable_tau_min')) }} as stability_stable_tau_min,
        {{ sql_number(stab.get('drifting_tau_min')) }} as stability_drifting_tau_min,
        {{ sql_number(stab.get('max_std_overlap')) }} as stability_max_std_overlap,
        {{ sql_number(stab.get('max_std_tau')) }} as stability_max_std_tau,
        cast({{ sql_number(stab.get('min_snapshots_for_stability')) }} as integer) as min_snapshots_for_stability,
        cast({{ sql_number(stab.get('top_k')) }} as integer) as stability_top_k,
        {{ sql_string(stab.get('cs_method')) }} as stability_cs_method,
        {{ sql_string(stab.get('symbol_method')) }} as stability_symbol_method,
        {{ sql_string(p.get('view_policy')) }} as view_policy,
        cast({{ 'null' if p.get('requested_view') is none else sql_string(p.get('requested_view')) }} as varchar) as requested_view,
        cast({{ sql_number(p.get('auto_flip_min_symbols')) }} as integer) as auto_flip_min_symbols,
        cast({{ sql_number(p.get('same_day_minutes')) }} as integer) as same_day_minutes,
        {{ sql_string_list(p.get('model_families', [])) }} as model_families,
        {{ sql_bool(hyst.get('enabled')) }} as hysteresis_enabled,
        cast({{ sql_number(hyst.get('min_runs_before_change')) }} as bigint) as hysteresis_min_runs_before_change

)

select * from policy
