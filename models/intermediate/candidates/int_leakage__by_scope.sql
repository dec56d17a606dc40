-- Leakage status per (target, symbol) scope: the most severe status of its evidence (BLOCKED, then SUSPECT,
-- then SAFE); the reason lists every piece of evidence.
with

evidence as (

    select * from {{ ref('int_leakage__evidence') }}

),

scoped as (

    select
        target,
        symbol,
        max(case when evidence_source = 'cohort' then leakage_flag end) as cohort_flag,
        max(case when evidence_source = 'rankings_csv' then leakage_flag end) as rankings_flag,
        max(severity) as severity,
        string_agg(
            evidence_source || ' ' || leakage_flag || ' -> ' || leakage_status, '; '
            order by severity desc, evidence_source asc, leakage_flag asc
        ) as leakage_reason
    from evidence
    group by target, symbol

),

final as (

    select
        target,
        symbol,
        coalesce(cohort_flag, rankings_flag) as leakage_flag,
        case severity
            when 3 then 'BLOCKED'
            when 2 then 'SUSPECT'
            when 1 then 'SAFE'
            else 'UNKNOWN'
        end as leakage_status,
        leakage_reason
    from scoped

)

select * from final
