-- Stability per (target, symbol) scope; symbol is null for the cross-sectional scope. Population mean and std
-- of the adjacent-pair overlaps and taus (a null tau is skipped), then the policy's stability_classification in
-- FoxML's order: DIVERGED (std above its maximum; a null std never diverges), STABLE, DRIFTING, else
-- UNKNOWN. Scopes that cannot be compared are UNKNOWN with the reason (no snapshots, insufficient snapshots,
-- invalid signatures).
with

scopes as (

    select * from {{ ref('int_stability__scopes') }}

),

pairs as (

    select * from {{ ref('int_stability__pairs') }}

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

pair_stats as (

    select
        scope_id,
        count(*) as n_comparisons,
        avg(overlap) as mean_overlap,
        stddev_pop(overlap) as std_overlap,
        avg(tau) as mean_tau,
        stddev_pop(tau) as std_tau
    from pairs
    group by scope_id

),

measured as (

    select
        scopes.target,
        scopes.symbol,
        scopes.scope_status,
        scopes.scope_detail,
        scopes.n_snapshots,
        coalesce(pair_stats.n_comparisons, 0) as n_comparisons,
        pair_stats.mean_overlap,
        pair_stats.std_overlap,
        pair_stats.mean_tau,
        pair_stats.std_tau
    from scopes
    left join pair_stats
        on scopes.scope_id = pair_stats.scope_id

),

classified as (

    select
        measured.target,
        measured.symbol,
        measured.n_snapshots,
        measured.n_comparisons,
        measured.mean_overlap,
        measured.std_overlap,
        measured.mean_tau,
        measured.std_tau,
        case
            when measured.scope_status != 'compared' then 'UNKNOWN'
            when
                measured.std_overlap > policy.stability_max_std_overlap
                or measured.std_tau > policy.stability_max_std_tau
                then 'DIVERGED'
            when
                measured.mean_overlap >= policy.stability_stable_overlap_min
                and measured.mean_tau >= policy.stability_stable_tau_min
                then 'STABLE'
            when
                measured.mean_overlap >= policy.stability_drifting_overlap_min
                and measured.mean_tau >= policy.stability_drifting_tau_min
                then 'DRIFTING'
            else 'UNKNOWN'
        end as stability,
        case
            when measured.scope_status = 'compared' then 'classified'
            else measured.scope_status
        end as stability_reason,
        measured.scope_detail as stability_detail
    from measured
    cross join policy

)

select * from classified
