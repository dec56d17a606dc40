-- The latest accepted cohort per (stage, target, view, symbol), chosen by an explicit timestamp:
-- metadata.json created_at, else metrics timestamp; ties broken by cohort id, then file, descending.
with

cohorts as (

    select * from {{ ref('int_cohorts__accepted') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by stage, target, view, symbol
            order by recency desc, cohort_id desc, source_file desc
        ) as recency_rank
    from cohorts

),

latest as (

    select * exclude (recency_rank)
    from ranked
    where recency_rank = 1

)

select * from latest
