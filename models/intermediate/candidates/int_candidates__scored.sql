-- One candidate per (target, symbol): the skill score and sample size from the latest cohort of the
-- policy's score stage, and the successful model families from the latest feature-selection cohort.
with

cohorts as (

    select * from {{ ref('int_cohorts__latest') }}

),

policy as (

    select * from {{ ref('routing_policy') }}

),

score_cohorts as (

    select cohorts.*
    from cohorts
    inner join policy
        on cohorts.stage = policy.score_stage

),

selection_cohorts as (

    select
        target,
        symbol,
        n_successful_families
    from cohorts
    where stage = 'FEATURE_SELECTION'

),

candidates as (

    select
        score_cohorts.target,
        score_cohorts.symbol,
        case when score_cohorts.symbol is null then 'CROSS_SECTIONAL' else 'SYMBOL_SPECIFIC' end as mode,
        score_cohorts.score,
        score_cohorts.cohort_sample_size::bigint as sample_size,
        score_cohorts.task_type,
        score_cohorts.metric_name,
        score_cohorts.stage as score_stage,
        score_cohorts.cohort_id,
        score_cohorts.source_file,
        score_cohorts.recency as cohort_recorded_at,
        selection_cohorts.n_successful_families::integer as n_successful_families
    from score_cohorts
    left join selection_cohorts
        on
            score_cohorts.target = selection_cohorts.target
            and score_cohorts.symbol is not distinct from selection_cohorts.symbol

)

select * from candidates
