-- Candidates read from a ready routing_candidates.parquet (trainplan refresh --candidates), rows with a problem
-- left out. Row identity is the symbol alone (null = cross-sectional); the file's mode is kept as source_mode.
with

file_candidates as (

    select * from {{ ref('stg_candidates__routing_candidates') }}

),

problems as (

    select * from {{ ref('int_inputs__problems') }}

),

accepted as (

    select file_candidates.*
    from file_candidates
    where not {{ is_rejected('file_candidates', by_row=true) }}

),

final as (

    select
        target,
        symbol,
        case when symbol is null then 'CROSS_SECTIONAL' else 'SYMBOL_SPECIFIC' end as mode,
        source_mode,
        score,
        score_ci_low,
        score_ci_high,
        coalesce(stability, 'UNKNOWN') as stability,
        'from ' || source_file as stability_reason,
        stability_mean_overlap,
        stability_std_overlap,
        stability_mean_tau,
        stability_std_tau,
        coalesce(stability_n_snapshots, 0) as stability_n_snapshots,
        coalesce(stability_n_comparisons, 0) as stability_n_comparisons,
        cast(sample_size as bigint) as sample_size,
        coalesce(leakage_status, 'UNKNOWN') as leakage_status,
        'from ' || source_file as leakage_reason,
        feature_set_id,
        failed_model_families,
        coalesce(model_status, case when score is null then 'FAILED' else 'OK' end) as model_status,
        task_type,
        metric_name,
        source_file,
        recorded_at as cohort_recorded_at
    from accepted

)

select * from final
