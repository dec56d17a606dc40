-- routing_decisions: one row per (target, symbol). The symbol-null row is the target's cross-sectional decision
-- (ROUTE_CROSS_SECTIONAL when its CS lane is not DISALLOWED, else ROUTE_BLOCKED, with the lane rule and, when
-- disabled, why); every symbol row carries both lanes, the route of int_routing__pair_routes and FoxML's
-- three reason strings ("CS: …", "LOCAL: …", the combination reason). Hysteresis columns (docs/decision-semantics.md,
-- "Hysteresis"): the previous route, the route without hysteresis, whether a lane was held and by what margin.
with

signals as (

    select * from {{ ref('int_routing__lane_signals') }}

),

pair_routes as (

    select * from {{ ref('int_routing__pair_routes') }}

),

lanes as (

    select
        *,
        ' (score=' || coalesce({{ tp_format_fixed('score', 3) }}, 'nan') || ', stability=' || stability || ')'
            as state_detail
    from signals

),

cs_lanes as (

    select * from lanes
    where lane = 'cross_sectional'

),

symbol_lanes as (

    select * from lanes
    where lane = 'symbol'

),

targets as (

    select
        target,
        max(semantics) as semantics
    from lanes
    group by target

),

cs_side as (

    select
        targets.target,
        targets.semantics,
        -- the defaults stand for a target without a CS row only: a CS lane with a null state or rule stays null,
        -- and the not_null data tests on cs_state and cs_lane_rule fail the build
        case when cs_lanes.target is null then 'DISALLOWED' else cs_lanes.signal_state end as cs_state,
        'cs_' || case when cs_lanes.target is null then 'no_metrics' else cs_lanes.lane_rule end as cs_rule,
        case when cs_lanes.target is null then 'no_metrics' else cs_lanes.lane_rule end as cs_lane_rule,
        cs_lanes.score as cs_score,
        cs_lanes.held_threshold as cs_threshold,
        cs_lanes.margin as cs_margin,
        cs_lanes.stability as cs_stability,
        cs_lanes.leakage_status as cs_leakage_status,
        cs_lanes.sample_size as cs_sample_size,
        cs_lanes.min_sample_size as cs_min_sample_size,
        cs_lanes.task_class as cs_task_class,
        cs_lanes.failed_model_families as cs_failed_model_families,
        cs_lanes.hysteresis_status as cs_hysteresis_status,
        coalesce(cs_lanes.held_by_hysteresis, false) as cs_held_by_hysteresis,
        coalesce(cs_lanes.signal_state_without_hysteresis, 'DISALLOWED') as cs_state_without_hysteresis,
        cs_lanes.hysteresis_needed_margin as cs_hysteresis_needed_margin,
        cs_lanes.previous_state as previous_cs_state,
        cs_lanes.previous_route as previous_cs_route,
        cs_lanes.runs_in_state as cs_runs_in_state,
        case
            when cs_lanes.target is null then 'no CS metrics'
            else cs_lanes.disabled_reason
        end as cs_disabled_reason,
        case
            when cs_lanes.target is null then 'CS: No metrics available'
            else 'CS: ' || cs_lanes.signal_state || cs_lanes.state_detail
        end as cs_reason,
        case
            when cs_lanes.target is null then 'No CS metrics'
            else
                'score=' || coalesce({{ tp_format_fixed('cs_lanes.score', 3) }}, 'nan')
                || ', stability=' || cs_lanes.stability
                || ', sample_size=' || cast(coalesce(cs_lanes.sample_size, 0) as varchar)
        end as cs_summary
    from targets
    left join cs_lanes
        on targets.target = cs_lanes.target

),

horizons as (

    select distinct
        target,
        horizon_minutes,
        horizon_tier
    from lanes

),

symbol_decisions as (

    select
        pair_routes.target,
        pair_routes.symbol,
        pair_routes.route,
        pair_routes.rule,
        pair_routes.cs_state,
        pair_routes.local_state,
        cs_side.cs_score,
        symbol_lanes.score as local_score,
        cs_side.cs_threshold,
        symbol_lanes.held_threshold as local_threshold,
        cs_side.cs_margin,
        symbol_lanes.margin as local_margin,
        cs_side.cs_stability,
        symbol_lanes.stability as local_stability,
        cs_side.cs_leakage_status,
        symbol_lanes.leakage_status as local_leakage_status,
        cs_side.cs_sample_size,
        symbol_lanes.sample_size as local_sample_size,
        {{ tp_string_array([
            'cs_side.cs_reason',
            "'LOCAL: ' || symbol_lanes.signal_state || symbol_lanes.state_detail",
            'pair_routes.combination_reason']) }} as reasons,
        cs_side.cs_summary,
        pair_routes.semantics,
        cs_side.cs_lane_rule,
        symbol_lanes.lane_rule as local_lane_rule,
        cs_side.cs_disabled_reason,
        symbol_lanes.disabled_reason as local_disabled_reason,
        cs_side.cs_min_sample_size,
        symbol_lanes.min_sample_size as local_min_sample_size,
        symbol_lanes.task_class,
        pair_routes.combination_reason,
        pair_routes.has_symbol_job,
        pair_routes.n_symbols_with_metrics,
        pair_routes.experimental_rank,
        pair_routes.experimental_cap,
        cs_side.cs_failed_model_families,
        symbol_lanes.failed_model_families as local_failed_model_families,
        pair_routes.previous_route,
        pair_routes.route_without_hysteresis,
        cs_side.cs_held_by_hysteresis or coalesce(symbol_lanes.held_by_hysteresis, false) as held_by_hysteresis,
        cs_side.cs_held_by_hysteresis,
        coalesce(symbol_lanes.held_by_hysteresis, false) as local_held_by_hysteresis,
        cs_side.cs_hysteresis_status,
        symbol_lanes.hysteresis_status as local_hysteresis_status,
        pair_routes.cs_state_without_hysteresis,
        pair_routes.local_state_without_hysteresis,
        cs_side.cs_hysteresis_needed_margin,
        symbol_lanes.hysteresis_needed_margin as local_hysteresis_needed_margin,
        cs_side.previous_cs_state,
        symbol_lanes.previous_state as previous_local_state,
        cs_side.cs_runs_in_state,
        symbol_lanes.runs_in_state as local_runs_in_state
    from pair_routes
    inner join symbol_lanes
        on
            pair_routes.target = symbol_lanes.target
            and pair_routes.symbol = symbol_lanes.symbol
    inner join cs_side
        on pair_routes.target = cs_side.target

),

target_decisions as (

    select
        target,
        cast(null as varchar) as symbol,
        case when cs_state = 'DISALLOWED' then 'ROUTE_BLOCKED' else 'ROUTE_CROSS_SECTIONAL' end as route,
        cs_rule as rule,
        cs_state,
        cast(null as varchar) as local_state,
        cs_score,
        cast(null as double) as local_score,
        cs_threshold,
        cast(null as double) as local_threshold,
        cs_margin,
        cast(null as double) as local_margin,
        cs_stability,
        cast(null as varchar) as local_stability,
        cs_leakage_status,
        cast(null as varchar) as local_leakage_status,
        cs_sample_size,
        cast(null as bigint) as local_sample_size,
        case
            when cs_disabled_reason is null then {{ tp_string_array(['cs_reason']) }}
            else {{ tp_string_array(['cs_reason', "'CS DISABLED: ' || cs_disabled_reason"]) }}
        end as reasons,
        cs_summary,
        semantics,
        cs_lane_rule,
        cast(null as varchar) as local_lane_rule,
        cs_disabled_reason,
        cast(null as varchar) as local_disabled_reason,
        cs_min_sample_size,
        cast(null as bigint) as local_min_sample_size,
        cs_task_class as task_class,
        cast(null as varchar) as combination_reason,
        false as has_symbol_job,
        cast(null as bigint) as n_symbols_with_metrics,
        cast(null as bigint) as experimental_rank,
        cast(null as bigint) as experimental_cap,
        cs_failed_model_families,
        cast(null as varchar[]) as local_failed_model_families,
        previous_cs_route as previous_route,
        case when cs_state_without_hysteresis = 'DISALLOWED' then 'ROUTE_BLOCKED' else 'ROUTE_CROSS_SECTIONAL' end
            as route_without_hysteresis,
        cs_held_by_hysteresis as held_by_hysteresis,
        cs_held_by_hysteresis,
        false as local_held_by_hysteresis,
        cs_hysteresis_status,
        cast(null as varchar) as local_hysteresis_status,
        cs_state_without_hysteresis,
        cast(null as varchar) as local_state_without_hysteresis,
        cs_hysteresis_needed_margin,
        cast(null as double) as local_hysteresis_needed_margin,
        previous_cs_state,
        cast(null as varchar) as previous_local_state,
        cs_runs_in_state,
        cast(null as bigint) as local_runs_in_state
    from cs_side

),

unioned as (

    select * from target_decisions
    union all
    select * from symbol_decisions

),

final as (

    select
        unioned.*,
        horizons.horizon_minutes,
        horizons.horizon_tier,
        unioned.route <> unioned.route_without_hysteresis as flip_prevented
    from unioned
    left join horizons
        on unioned.target = horizons.target

)

select * from final
