-- The cohort metrics files that passed every check of int_inputs__problems, one per cohort folder: the
-- parquet when it was accepted (FoxML treats it as canonical), else the JSON.
with

cohort_metrics as (

    select * from {{ ref('int_cohorts__metrics') }}

),

problems as (

    select * from {{ ref('int_inputs__problems') }}

),

accepted as (

    select cohort_metrics.*
    from cohort_metrics
    where not {{ is_rejected('cohort_metrics') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by cohort_folder
            order by case file_format when 'parquet' then 0 else 1 end
        ) as format_rank
    from accepted

),

one_per_cohort as (

    select * exclude (format_rank)
    from ranked
    where format_rank = 1

)

select * from one_per_cohort
