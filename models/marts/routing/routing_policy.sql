-- The effective routing policy (one row): scalar settings of CONFIG/training_config/routing_config.yaml.
{%- set p = load_routing_policy() -%}
{%- set exp = p.get('experimental', {}) -%}
{%- set mins = p.get('min_sample_size', {}) -%}
{%- set allow = p.get('stability_allowlist', {}) -%}
{%- set stab = p.get('stability_classification', {}) %}

with

policy as (

    select
        {{ sql_string(policy_path()) }} as policy_path,
        {{ sql_string(p.get('semantics', 'strict')) }} as semantics,
        upper({{ sql_string(p.get('score_stage', 'TARGET_RANKING')) }}) as score_stage,
        {{ sql_string(p.get('dev_mode', false)) }}::boolean as dev_mode,
        {{ sql_string(p.get('dev_mode_min_sample_size', 5000)) }}::bigint as dev_mode_min_sample_size,
        {{ sql_string(mins.get('cross_sectional', 0)) }}::bigint as min_sample_size_cross_sectional,
        {{ sql_string(mins.get('symbol', 0)) }}::bigint as min_sample_size_symbol,
        {{ sql_string(p.get('block_on_leakage', true)) }}::boolean as block_on_leakage,
        {{ sql_string(p.get('both_strong_behavior', 'ROUTE_BOTH')) }} as both_strong_behavior,
        {{ sql_string(p.get('enable_experimental_lane', false)) }}::boolean as enable_experimental_lane,
        {{ sql_string(exp.get('min_score', 0.52)) }}::double as experimental_min_score,
        {{ sql_string_list(exp.get('allowed_stabilities', ['DRIFTING', 'UNKNOWN'])) }} as experimental_allowed_stabilities,
        {{ sql_string(exp.get('max_fraction_symbols_per_target', 1.0)) }}::double as experimental_max_fraction_symbols_per_target,
        {{ sql_string_list(allow.get('cross_sectional', [])) }} as stability_allowlist_cross_sectional,
        {{ sql_string_list(allow.get('symbol', [])) }} as stability_allowlist_symbol,
        {{ sql_string(p.get('require_safe_features_only', false)) }}::boolean as require_safe_features_only,
        {{ sql_string_list(p.get('allowed_feature_leakage_status', ['SAFE'])) }} as allowed_feature_leakage_status,
        {{ sql_string(p.get('require_min_successful_families', 0)) }}::bigint as require_min_successful_families,
        {{ sql_string(stab.get('top_k', 20)) }}::integer as stability_top_k,
        {{ sql_string(stab.get('min_snapshots_for_stability', 2)) }}::integer as min_snapshots_for_stability,
        {{ sql_string(stab.get('stable_overlap_min', 0.70)) }}::double as stability_stable_overlap_min,
        {{ sql_string(stab.get('drifting_overlap_min', 0.50)) }}::double as stability_drifting_overlap_min,
        {{ sql_string(stab.get('stable_tau_min', 0.60)) }}::double as stability_stable_tau_min,
        {{ sql_string(stab.get('drifting_tau_min', 0.40)) }}::double as stability_drifting_tau_min,
        {{ sql_string(stab.get('max_std_overlap', 0.20)) }}::double as stability_max_std_overlap,
        {{ sql_string(stab.get('max_std_tau', 0.25)) }}::double as stability_max_std_tau,
        {{ sql_string(stab.get('cs_method', 'multi_model_aggregated')) }} as stability_cs_method,
        {{ sql_string(stab.get('symbol_method', 'lightgbm')) }} as stability_symbol_method,
        {{ sql_string_list(p.get('model_families', ['lightgbm', 'xgboost'])) }} as model_families,
        {{ sql_string_list(p.get("dump_plan_as", ["JSON"])) }} as dump_plan_as

)

select * from policy
