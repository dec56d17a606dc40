{{ config(severity='error') }}
-- Two different (target, symbol) pairs must never share a job id (FoxML lets them: target `a_b` + symbol `c` and
-- target `a` + symbol `b_c` both give sym_a_b_c). The query fails with a message naming both pairs.
with

jobs as (

    select * from {{ ref('training_jobs') }}

),

collisions as (

    select
        first_job.job_id,
        'job id collision: ' || first_job.job_id || ' is both (target=' || first_job.target || ', symbol='
        || coalesce(first_job.symbol, 'null') || ') and (target=' || second_job.target || ', symbol='
        || coalesce(second_job.symbol, 'null') || '); rename a target or symbol' as message
    from jobs as first_job
    inner join jobs as second_job
        on
            first_job.job_id = second_job.job_id
            and (
                first_job.target < second_job.target
                or (first_job.target = second_job.target and first_job.symbol < second_job.symbol)
            )

)

-- the raise sits in the filter: dbt counts this query's rows, and a column nothing reads need not be computed
select
    job_id,
    message
from collisions
where case when message is not null then {{ tp_raise('message') }} else false end
