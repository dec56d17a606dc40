-- routing_candidates: one row per (target, symbol); CS rows have symbol null. The reference's columns
-- (shared/reference §2) plus lineage, stability and leakage evidence.
with

candidates as (

    select * from {{ ref('int_candidates__scored') }}

),

stability as (

    select * from {{ ref('int_stability__by_scope') }}

),

leakage as (

    select * from {{ ref('int_leakage__by_scope') }}

),

final as (

    select
        candidates.target,
        candidates.symbol,
        candidates.mode,
        candidates.score,
        null::double as score_ci_low,
        null::double as score_ci_high,
        coalesce(stability.stability, 'UNKNOWN') as stability,
        coalesce(stability.stability_reason, 'no snapshots') as stability_reason,
        stability.mean_overlap as stability_mean_overlap,
        stability.std_overlap as stability_std_overlap,
        stability.mean_tau as stability_mean_tau,
        stability.std_tau as stability_std_tau,
        coalesce(stability.n_snapshots, 0) as stability_n_snapshots,
        coalesce(stability.n_comparisons, 0) as stability_n_comparisons,
        candidates.sample_size,
        coalesce(leakage.leakage_status, 'UNKNOWN') as leakage_status,
        coalesce(leakage.leakage_reason, 'no leakage evidence') as leakage_reason,
        null::varchar as feature_set_id,
        []::varchar[] as failed_model_families,
        candidates.n_successful_families,
        case when candidates.score is null then 'FAILED' else 'OK' end as model_status,
        candidates.task_type,
        candidates.metric_name,
        candidates.score_stage,
        candidates.cohort_id,
        candidates.source_file,
        candidates.cohort_recorded_at
    from candidates
    left join stability
        on
            candidates.target = stability.target
            and candidates.symbol is not distinct from stability.symbol
    left join leakage
        on
            candidates.target = leakage.target
            and candidates.symbol is not distinct from leakage.symbol

)

select * from final
