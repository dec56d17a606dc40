-- Leakage status per (target, symbol) scope from the target-ranking leakage_flag of the scope's latest cohort.
with

cohorts as (

    select * from {{ ref('int_cohorts__latest') }}

),

flag_statuses as (

    select * from {{ ref('leakage_flag_statuses') }}

),

ranking_cohorts as (

    select
        target,
        symbol,
        leakage_flag
    from cohorts
    where stage = 'TARGET_RANKING'

),

scoped as (

    select
        ranking_cohorts.target,
        ranking_cohorts.symbol,
        ranking_cohorts.leakage_flag,
        coalesce(flag_statuses.leakage_status, 'UNKNOWN') as leakage_status,
        case
            when ranking_cohorts.leakage_flag is null then 'no leakage_flag in the target-ranking cohort'
            else 'target-ranking leakage_flag=' || ranking_cohorts.leakage_flag
        end as leakage_reason
    from ranking_cohorts
    left join flag_statuses
        on ranking_cohorts.leakage_flag = flag_statuses.leakage_flag

)

select * from scoped
