-- routing_decisions: one row per (target, symbol). The row with symbol null is the target's cross-sectional
-- decision (ROUTE_CROSS_SECTIONAL when the CS lane is not DISALLOWED, else ROUTE_BLOCKED); every symbol row
-- combines its lane with the target's CS lane by the policy's semantics.
with

signals as (

    select * from {{ ref('int_routing__lane_signals') }}

),

policy as (

    select * from {{ ref('routing_policy') }}

),

targets as (

    select distinct target from signals

),

cs_lane as (

    select
        targets.target,
        signals.signal_state is not null as has_cs_metrics,
        coalesce(signals.signal_state, 'DISALLOWED') as cs_state,
        coalesce(signals.lane_rule, 'no_metrics') as cs_rule,
        signals.score as cs_score,
        signals.held_threshold as cs_threshold,
        signals.margin as cs_margin,
        signals.stability as cs_stability,
        signals.leakage_status as cs_leakage_status,
        signals.sample_size as cs_sample_size,
        case
            when signals.signal_state is null then 'CS: No metrics available'
            else
                'CS: ' || signals.signal_state || ' (score=' || printf('%.3f', signals.score)
                || ', stability=' || signals.stability || ')'
        end as cs_reason,
        case
            when signals.signal_state is null then 'No CS metrics'
            else
                'score=' || printf('%.3f', signals.score) || ', stability=' || signals.stability
                || ', sample_size=' || signals.sample_size
        end as cs_summary
    from targets
    left join signals
        on
            targets.target = signals.target
            and signals.lane = 'cross_sectional'

),

symbol_lane as (

    select
        target,
        symbol,
        signal_state as local_state,
        lane_rule as local_rule,
        score as local_score,
        held_threshold as local_threshold,
        margin as local_margin,
        stability as local_stability,
        leakage_status as local_leakage_status,
        sample_size as local_sample_size,
        'LOCAL: ' || signal_state || ' (score=' || printf('%.3f', score) || ', stability=' || stability || ')'
            as local_reason
    from signals
    where lane = 'symbol'

),

combined as (

    select
        symbol_lane.*,
        cs_lane.has_cs_metrics,
        cs_lane.cs_state,
        cs_lane.cs_rule,
        cs_lane.cs_score,
        cs_lane.cs_threshold,
        cs_lane.cs_margin,
        cs_lane.cs_stability,
        cs_lane.cs_leakage_status,
        cs_lane.cs_sample_size,
        cs_lane.cs_reason,
        cs_lane.cs_summary,
        policy.semantics,
        case
            when cs_lane.cs_state in ('STRONG', 'WEAK_BUT_OK') and symbol_lane.local_state in ('STRONG', 'WEAK_BUT_OK')
                then case policy.both_strong_behavior
                        when 'ROUTE_BOTH' then 'both_strong'
                        when 'PREFER_CS' then 'both_strong_prefer_cs'
                        when 'PREFER_SYMBOL' then 'both_strong_prefer_symbol'
                    end
            when cs_lane.cs_state in ('STRONG', 'WEAK_BUT_OK') then 'cs_only'
            when symbol_lane.local_state in ('STRONG', 'WEAK_BUT_OK') then 'symbol_only'
            when cs_lane.cs_state = 'EXPERIMENTAL' or symbol_lane.local_state = 'EXPERIMENTAL' then 'experimental_only'
            else 'both_disallowed'
        end as rule
    from symbol_lane
    inner join cs_lane
        on symbol_lane.target = cs_lane.target
    cross join policy

),

routed as (

    select
        *,
        case rule
            when 'both_strong' then 'ROUTE_BOTH'
            when 'both_strong_prefer_cs' then 'ROUTE_CROSS_SECTIONAL'
            when 'both_strong_prefer_symbol' then 'ROUTE_SYMBOL_SPECIFIC'
            when 'cs_only' then 'ROUTE_CROSS_SECTIONAL'
            when 'symbol_only' then 'ROUTE_SYMBOL_SPECIFIC'
            when 'experimental_only' then 'ROUTE_EXPERIMENTAL_ONLY'
            else 'ROUTE_BLOCKED'
        end as route,
        case rule
            when 'both_strong' then 'Both CS and local strong → ROUTE_BOTH'
            when 'both_strong_prefer_cs' then 'Both strong, preferring CS'
            when 'both_strong_prefer_symbol' then 'Both strong, preferring local'
            when 'cs_only' then 'Local not eligible for production, CS only'
            when 'symbol_only' then 'CS not eligible for production, local only'
            when 'experimental_only' then 'Experimental lane only'
            else 'Both CS and local disallowed'
        end as combination_reason
    from combined

),

symbol_decisions as (

    select
        target,
        symbol,
        route,
        rule,
        cs_state,
        local_state,
        cs_score,
        local_score,
        cs_threshold,
        local_threshold,
        cs_margin,
        local_margin,
        cs_stability,
        local_stability,
        cs_leakage_status,
        local_leakage_status,
        cs_sample_size,
        local_sample_size,
        [cs_reason, local_reason, combination_reason] as reasons,
        cs_summary,
        semantics
    from routed

),

target_decisions as (

    select
        cs_lane.target,
        null::varchar as symbol,
        case when cs_lane.cs_state = 'DISALLOWED' then 'ROUTE_BLOCKED' else 'ROUTE_CROSS_SECTIONAL' end as route,
        'cs_' || cs_lane.cs_rule as rule,
        cs_lane.cs_state,
        null::varchar as local_state,
        cs_lane.cs_score,
        null::double as local_score,
        cs_lane.cs_threshold,
        null::double as local_threshold,
        cs_lane.cs_margin,
        null::double as local_margin,
        cs_lane.cs_stability,
        null::varchar as local_stability,
        cs_lane.cs_leakage_status,
        null::varchar as local_leakage_status,
        cs_lane.cs_sample_size,
        null::bigint as local_sample_size,
        [cs_lane.cs_reason] as reasons,
        cs_lane.cs_summary,
        policy.semantics
    from cs_lane
    cross join policy

),

final as (

    select * from target_decisions
    union all
    select * from symbol_decisions

)

select * from final
