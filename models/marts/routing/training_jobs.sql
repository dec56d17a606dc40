-- training_jobs: the plan's jobs (docs/decision-semantics.md, "Jobs and priorities"). One cs_<target> job per
-- target whose CS lane is not DISALLOWED (it carries ROUTE_CROSS_SECTIONAL), and one sym_<target>_<symbol> job per
-- pair that int_routing__pair_routes gives its own job (it carries the pair's route). Training type, priority and
-- needs_cs_ensemble come from the route's row of the route_rules seed: job_priority_when_experimental under strict
-- when the job's own lane is EXPERIMENTAL, else job_priority. strict: model_families are the policy's families
-- minus the scope's failed families, and with require_safe_features_only excluded_features lists the scope's
-- quarantined features whose status (confirmed → BLOCKED, suspect → SUSPECT) is not in
-- allowed_feature_leakage_status. foxml: every job gets the policy's families and no exclusions (FoxML ignores
-- both). job_order is the plan's order: priority descending, then target, the CS job first, then symbol.
with

decisions as (

    select * from {{ ref('routing_decisions') }}

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

quarantined as (

    select * from {{ ref('int_leakage__quarantined_features') }}

),

route_rules as (

    select * from {{ ref('route_rules') }}

),

excluded_by_scope as (

    select
        quarantined.target,
        quarantined.symbol,
        {{ tp_sorted_array_agg('quarantined.feature') }} as excluded_features
    from (
        select distinct
            target,
            symbol,
            feature,
            case when lower(quarantine_kind) like '%suspect%' then 'SUSPECT' else 'BLOCKED' end as feature_status
        from quarantined
    ) as quarantined
    cross join policy
    where not {{ tp_list_contains('policy.allowed_feature_leakage_status', 'quarantined.feature_status') }}
    group by quarantined.target, quarantined.symbol

),

cs_jobs as (

    select
        'cs_' || target as job_id,
        target,
        cast(null as varchar) as symbol,
        'ROUTE_CROSS_SECTIONAL' as route,
        cs_state as lane_state,
        cs_sample_size as estimated_samples,
        cs_summary as reason,
        cs_state,
        cast(null as varchar) as local_state,
        cs_failed_model_families as failed_model_families,
        semantics,
        rule,
        cs_threshold,
        cs_margin,
        cast(null as double) as local_threshold,
        cast(null as double) as local_margin
    from decisions
    where symbol is null and cs_state != 'DISALLOWED'

),

symbol_jobs as (

    select
        'sym_' || target || '_' || symbol as job_id,
        target,
        symbol,
        route,
        local_state as lane_state,
        local_sample_size as estimated_samples,
        {{ tp_array_join('reasons', "'; '") }} as reason,
        cs_state,
        local_state,
        local_failed_model_families as failed_model_families,
        semantics,
        rule,
        cs_threshold,
        cs_margin,
        local_threshold,
        local_margin
    from decisions
    where symbol is not null and has_symbol_job

),

unioned as (

    select * from cs_jobs
    union all
    select * from symbol_jobs

),

jobs as (

    select
        unioned.*,
        route_rules.job_training_type as training_type,
        case
            when unioned.semantics = 'strict' and unioned.lane_state = 'EXPERIMENTAL'
                then route_rules.job_priority_when_experimental
            else route_rules.job_priority
        end as priority,
        case when unioned.symbol is not null then route_rules.needs_cs_ensemble end as needs_cs_ensemble
    from unioned
    inner join route_rules
        on unioned.route = route_rules.route

),

final as (

    select
        jobs.job_id,
        jobs.target,
        jobs.symbol,
        jobs.route,
        jobs.training_type,
        jobs.priority,
        jobs.estimated_samples,
        jobs.reason,
        jobs.cs_state,
        jobs.local_state,
        jobs.needs_cs_ensemble,
        case
            when jobs.semantics = 'strict'
                then {{ tp_list_except('policy.model_families', 'jobs.failed_model_families') }}
            else policy.model_families
        end as model_families,
        case
            when jobs.semantics = 'strict' and policy.require_safe_features_only
                then coalesce(excluded_by_scope.excluded_features, {{ tp_string_array([]) }})
            else {{ tp_string_array([]) }}
        end as excluded_features,
        row_number() over (
            order by jobs.priority desc, jobs.target asc, jobs.symbol asc nulls first
        ) as job_order,
        jobs.failed_model_families,
        jobs.semantics,
        jobs.rule,
        jobs.cs_threshold,
        jobs.cs_margin,
        jobs.local_threshold,
        jobs.local_margin
    from jobs
    cross join policy
    left join excluded_by_scope
        on {{ same_scope('jobs', 'excluded_by_scope') }}

)

select * from final
