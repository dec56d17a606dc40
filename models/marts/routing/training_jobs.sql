-- training_jobs: the plan's jobs (shared/reference §5.1) — one cs_<target> job per target whose CS lane is not
-- DISALLOWED, and one sym_<target>_<symbol> job per pair routed SYMBOL_SPECIFIC, BOTH, or EXPERIMENTAL_ONLY
-- with an EXPERIMENTAL symbol lane. job_order is the plan's order: priority descending, then target, CS first.
with

decisions as (

    select * from {{ ref('routing_decisions') }}

),

policy as (

    select * from {{ ref('routing_policy') }}

),

cs_jobs as (

    select
        'cs_' || target as job_id,
        target,
        null::varchar as symbol,
        'ROUTE_CROSS_SECTIONAL' as route,
        'cross_sectional' as training_type,
        case when cs_state = 'EXPERIMENTAL' then 1 else 2 end as priority,
        cs_sample_size as estimated_samples,
        cs_summary as reason,
        cs_state,
        null::varchar as local_state,
        null::boolean as needs_cs_ensemble
    from decisions
    where symbol is null and cs_state != 'DISALLOWED'

),

symbol_jobs as (

    select
        'sym_' || target || '_' || symbol as job_id,
        target,
        symbol,
        route,
        'symbol_specific' as training_type,
        case route when 'ROUTE_BOTH' then 3 when 'ROUTE_SYMBOL_SPECIFIC' then 2 else 1 end as priority,
        local_sample_size as estimated_samples,
        array_to_string(reasons, '; ') as reason,
        cs_state,
        local_state,
        route = 'ROUTE_BOTH' as needs_cs_ensemble
    from decisions
    where
        symbol is not null
        and (
            route in ('ROUTE_SYMBOL_SPECIFIC', 'ROUTE_BOTH')
            or (route = 'ROUTE_EXPERIMENTAL_ONLY' and local_state = 'EXPERIMENTAL')
        )

),

jobs as (

    select * from cs_jobs
    union all
    select * from symbol_jobs

),

final as (

    select
        jobs.*,
        policy.model_families,
        []::varchar[] as excluded_features,
        row_number() over (order by jobs.priority desc, jobs.target asc, jobs.symbol asc nulls first) as job_order
    from jobs
    cross join policy

)

select * from final
