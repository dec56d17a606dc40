-- Every piece of leakage evidence per (target, symbol) scope, mapped to a status through the
-- leakage_flag_statuses seed: the target-ranking leakage_flag of the scope's latest cohort, the per-target
-- flag of the rankings CSV (the cross-sectional ranking: its CS scope), non-empty suspect files, and the
-- confirmed quarantine files of int_leakage__quarantined_features. Files or rows with a problem are left out.
with

cohorts as (

    select * from {{ ref('int_cohorts__latest') }}

),

rankings as (

    select * from {{ ref('stg_foxml__target_rankings') }}

),

suspects as (

    select * from {{ ref('stg_foxml__quarantine_suspects') }}

),

quarantined as (

    select * from {{ ref('int_leakage__quarantined_features') }}

),

problems as (

    select * from {{ ref('int_inputs__problems') }}

),

flag_statuses as (

    select * from {{ ref('leakage_flag_statuses') }}

),

cohort_flags as (

    select
        target,
        symbol,
        'cohort' as evidence_source,
        leakage_flag,
        source_file
    from cohorts
    where stage = 'TARGET_RANKING' and leakage_flag is not null

),

ranking_flags as (

    select
        target,
        null as symbol,
        'rankings_csv' as evidence_source,
        leakage_flag,
        source_file
    from rankings
    where
        leakage_flag is not null
        and not {{ is_rejected('rankings', by_row=true) }}

),

suspect_files as (

    select distinct
        target,
        path_symbol as symbol,
        'suspects' as evidence_source,
        'QUARANTINE_SUSPECTS' as leakage_flag,
        source_file
    from suspects
    where
        n_suspects > 0
        and not {{ is_rejected('suspects') }}

),

confirmed_files as (

    select distinct
        target,
        symbol,
        'confirmed_quarantine' as evidence_source,
        'QUARANTINE_CONFIRMED' as leakage_flag,
        source_file
    from quarantined

),

evidence as (

    select * from cohort_flags
    union all
    select * from ranking_flags
    union all
    select * from suspect_files
    union all
    select * from confirmed_files

),

mapped as (

    select
        evidence.*,
        flag_statuses.leakage_status,
        case flag_statuses.leakage_status
            when 'BLOCKED' then 3
            when 'SUSPECT' then 2
            when 'SAFE' then 1
            else 0
        end as severity
    from evidence
    inner join flag_statuses
        on evidence.leakage_flag = flag_statuses.leakage_flag

)

select * from mapped
