-- One candidate per (target, symbol) that has an accepted cohort: the skill score and sample size from the
-- latest cohort of the policy's score stage (null when the scope has none), and the successful model families
-- from the latest feature-selection cohort.
with

cohorts as (

    select * from {{ ref('int_cohorts__latest') }}

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

scopes as (

    select distinct
        target,
        symbol
    from cohorts

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
        scopes.target,
        scopes.symbol,
        case when scopes.symbol is null then 'CROSS_SECTIONAL' else 'SYMBOL_SPECIFIC' end as mode,
        score_cohorts.score,
        cast(score_cohorts.cohort_sample_size as bigint) as sample_size,
        score_cohorts.task_type,
        score_cohorts.metric_name,
        policy.score_stage,
        score_cohorts.cohort_id,
        score_cohorts.source_file,
        score_cohorts.recency as cohort_recorded_at,
        cast(selection_cohorts.n_successful_families as integer) as n_successful_families
    from scopes
    cross join policy
    left join score_cohorts
        on {{ same_scope('scopes', 'score_cohorts') }}
    left join selection_cohorts
        on {{ same_scope('scopes', 'selection_cohorts') }}

)

select * from candidates
