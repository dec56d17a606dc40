-- The routing candidates: one row per (target, symbol); CS rows have symbol null. FoxML's routing_candidates
-- columns plus lineage, stability and leakage evidence. Built from the run directory's cohorts, or from a ready
-- routing_candidates.parquet (refresh --candidates); a build reads one or the other. The mart
-- routing_candidates selects from here; the routing models read this model.
-- A candidate whose leakage evidence could not be read (int_leakage__unreadable_evidence) is held: its leakage
-- status is UNKNOWN unless readable evidence says BLOCKED, its reason names the files, and
-- leakage_unreadable_evidence (kept out of the mart: the exported candidates keep the reference's columns) lists
-- them for the lane rule leakage_unreadable.
with

candidates as (

    select * from {{ ref('int_candidates__scored') }}

),

file_candidates as (

    select * from {{ ref('int_candidates__from_file') }}

),

stability as (

    select * from {{ ref('int_stability__by_scope') }}

),

leakage as (

    select * from {{ ref('int_leakage__by_scope') }}

),

unreadable_evidence as (

    select * from {{ ref('int_leakage__unreadable_evidence') }}

),

held as (

    select
        candidates.target,
        candidates.symbol,
        string_agg(
            distinct unreadable_evidence.evidence_file, ', ' order by unreadable_evidence.evidence_file
        ) as leakage_unreadable_evidence
    from candidates
    inner join unreadable_evidence
        on
            (
                unreadable_evidence.target_key is null
                or unreadable_evidence.target_key = replace(replace(candidates.target, '/', '_'), chr(92), '_')
            )
            and (
                unreadable_evidence.hold_scope = 'target'
                or (unreadable_evidence.hold_scope = 'cross_sectional' and candidates.symbol is null)
                or (unreadable_evidence.hold_scope = 'symbol' and candidates.symbol = unreadable_evidence.symbol)
            )
    group by candidates.target, candidates.symbol

),

from_run_dir as (

    select
        candidates.target,
        candidates.symbol,
        candidates.mode,
        candidates.score,
        cast(null as double) as score_ci_low,
        cast(null as double) as score_ci_high,
        coalesce(stability.stability, 'UNKNOWN') as stability,
        coalesce(stability.stability_reason, 'no snapshots') as stability_reason,
        stability.mean_overlap as stability_mean_overlap,
        stability.std_overlap as stability_std_overlap,
        stability.mean_tau as stability_mean_tau,
        stability.std_tau as stability_std_tau,
        coalesce(stability.n_snapshots, 0) as stability_n_snapshots,
        coalesce(stability.n_comparisons, 0) as stability_n_comparisons,
        candidates.sample_size,
        case
            when leakage.leakage_status = 'BLOCKED' then 'BLOCKED'
            when held.leakage_unreadable_evidence is not null then 'UNKNOWN'
            else coalesce(leakage.leakage_status, 'UNKNOWN')
        end as leakage_status,
        case
            when held.leakage_unreadable_evidence is null then coalesce(leakage.leakage_reason, 'no leakage evidence')
            else
                concat_ws(
                    '; ',
                    'held: leakage evidence unreadable in ' || held.leakage_unreadable_evidence,
                    leakage.leakage_reason
                )
        end as leakage_reason,
        cast(null as varchar) as feature_set_id,
        cast([] as varchar[]) as failed_model_families,
        candidates.n_successful_families,
        case when candidates.score is null then 'FAILED' else 'OK' end as model_status,
        candidates.task_type,
        candidates.metric_name,
        candidates.score_stage,
        candidates.cohort_id,
        candidates.source_file,
        candidates.cohort_recorded_at,
        'run_dir' as candidate_source,
        held.leakage_unreadable_evidence
    from candidates
    left join stability
        on {{ same_scope('candidates', 'stability') }}
    left join leakage
        on {{ same_scope('candidates', 'leakage') }}
    left join held
        on {{ same_scope('candidates', 'held') }}

),

from_file as (

    select
        target,
        symbol,
        mode,
        score,
        score_ci_low,
        score_ci_high,
        stability,
        stability_reason,
        stability_mean_overlap,
        stability_std_overlap,
        stability_mean_tau,
        stability_std_tau,
        stability_n_snapshots,
        stability_n_comparisons,
        sample_size,
        leakage_status,
        leakage_reason,
        feature_set_id,
        failed_model_families,
        cast(null as integer) as n_successful_families,
        model_status,
        task_type,
        metric_name,
        cast(null as varchar) as score_stage,
        cast(null as varchar) as cohort_id,
        source_file,
        cohort_recorded_at,
        'candidates_file' as candidate_source,
        cast(null as varchar) as leakage_unreadable_evidence
    from file_candidates

),

final as (

    select * from from_run_dir
    union all
    select * from from_file

)

select * from final
