-- The route of every (target, symbol) pair: the symbol lane combined with the target's CS lane (a target
-- without a CS row has a DISALLOWED CS lane, "No metrics available"), by the semantics in force.
--
-- docs/decision-semantics.md ("Routes", "The experimental cap", "What semantics: foxml does differently").
-- strict (a signal keeps its lane):
--   CS \ symbol       | STRONG/WEAK_BUT_OK      | EXPERIMENTAL      | DISALLOWED
--   STRONG/WEAK_BUT_OK | both_strong_behavior    | CROSS_SECTIONAL   | CROSS_SECTIONAL
--   EXPERIMENTAL       | SYMBOL_SPECIFIC         | EXPERIMENTAL_ONLY | EXPERIMENTAL_ONLY
--   DISALLOWED         | SYMBOL_SPECIFIC         | EXPERIMENTAL_ONLY | BLOCKED
--   A pair gets its own symbol job when its route is SYMBOL_SPECIFIC or BOTH, or EXPERIMENTAL_ONLY with an
--   EXPERIMENTAL symbol lane — the last kind capped per target at floor(max_fraction_symbols_per_target ×
--   symbols with a score for the target) (1e-9 tolerance for binary fractions), best local score first, ties
--   by symbol. A pair over the cap falls to what the CS side allows: EXPERIMENTAL_ONLY served by the
--   experimental CS job, or BLOCKED when the CS lane is DISALLOWED.
-- foxml (FoxML's rules in its order; no cap; every non-blocked, non-CS route gets a symbol job):
--   both DISALLOWED → BLOCKED; CS DISALLOWED → SYMBOL_SPECIFIC; symbol DISALLOWED → CROSS_SECTIONAL;
--   both STRONG/WEAK_BUT_OK → both_strong_behavior; an EXPERIMENTAL side → EXPERIMENTAL_ONLY; else BLOCKED.
-- Hysteresis (docs/decision-semantics.md, "Hysteresis") acts on the lanes (int_routing__lane_signals); here the
-- strict table is also applied to the lane states without hysteresis (route_without_hysteresis, before the
-- experimental cap), so a decision says which route hysteresis kept it from.
{%- set strict_rule -%}
        case
            when __cs__ in ('STRONG', 'WEAK_BUT_OK') and __local__ in (
                    'STRONG', 'WEAK_BUT_OK'
                )
                then case
                    both_strong_behavior
                        when 'PREFER_CS' then 'both_production_prefer_cs'
                        when 'PREFER_SYMBOL' then 'both_production_prefer_symbol'
                        else 'both_production'
                    end
            when __cs__ in ('STRONG', 'WEAK_BUT_OK') and __local__ = 'EXPERIMENTAL'
                then 'cs_production_symbol_experimental'
            when __cs__ in ('STRONG', 'WEAK_BUT_OK') then 'cs_production_symbol_disallowed'
            when __local__ in ('STRONG', 'WEAK_BUT_OK') and __cs__ = 'EXPERIMENTAL'
                then 'cs_experimental_symbol_production'
            when __local__ in ('STRONG', 'WEAK_BUT_OK') then 'cs_disallowed_symbol_production'
            when __cs__ = 'EXPERIMENTAL' and __local__ = 'EXPERIMENTAL' then 'both_experimental'
            when __cs__ = 'EXPERIMENTAL' then 'cs_experimental_symbol_disallowed'
            when __local__ = 'EXPERIMENTAL' then 'cs_disallowed_symbol_experimental'
            else 'both_disallowed'
        end
{%- endset %}
with

signals as (

    select * from {{ ref('int_routing__lane_signals') }}

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

cs_lanes as (

    select * from signals
    where lane = 'cross_sectional'

),

symbol_lanes as (

    select * from signals
    where lane = 'symbol'

),

symbol_counts as (

    select
        target,
        sum(case when is_missing_score then 0 else 1 end) as n_symbols_with_metrics
    from symbol_lanes
    group by target

),

pairs as (

    select
        symbol_lanes.target,
        symbol_lanes.symbol,
        policy.semantics,
        policy.both_strong_behavior,
        policy.enable_experimental_lane,
        policy.experimental_max_fraction_symbols_per_target,
        cs_lanes.target is not null as has_cs_metrics,
        coalesce(cs_lanes.signal_state, 'DISALLOWED') as cs_state,
        coalesce(cs_lanes.lane_rule, 'no_metrics') as cs_lane_rule,
        cs_lanes.score as cs_score,
        cs_lanes.stability as cs_stability,
        symbol_lanes.signal_state as local_state,
        coalesce(cs_lanes.signal_state_without_hysteresis, cs_lanes.signal_state, 'DISALLOWED')
            as cs_state_without_hysteresis,
        coalesce(symbol_lanes.signal_state_without_hysteresis, symbol_lanes.signal_state)
            as local_state_without_hysteresis,
        symbol_lanes.previous_route,
        symbol_lanes.lane_rule as local_lane_rule,
        symbol_lanes.score as local_score,
        symbol_lanes.stability as local_stability,
        symbol_counts.n_symbols_with_metrics
    from symbol_lanes
    cross join policy
    left join cs_lanes
        on symbol_lanes.target = cs_lanes.target
    left join symbol_counts
        on symbol_lanes.target = symbol_counts.target

),

ruled as (

    select
        *,
        case
            when semantics = 'foxml'
                then case
                        when cs_state = 'DISALLOWED' and local_state = 'DISALLOWED' then 'foxml_both_disallowed'
                        when cs_state = 'DISALLOWED' then 'foxml_cs_disallowed'
                        when local_state = 'DISALLOWED' then 'foxml_local_disallowed'
                        when
                            cs_state in ('STRONG', 'WEAK_BUT_OK') and local_state in ('STRONG', 'WEAK_BUT_OK')
                            and both_strong_behavior = 'ROUTE_BOTH'
                            then 'foxml_both_strong'
                        when
                            cs_state in ('STRONG', 'WEAK_BUT_OK') and local_state in ('STRONG', 'WEAK_BUT_OK')
                            and both_strong_behavior = 'PREFER_CS'
                            then 'foxml_both_strong_prefer_cs'
                        when
                            cs_state in ('STRONG', 'WEAK_BUT_OK') and local_state in ('STRONG', 'WEAK_BUT_OK')
                            and both_strong_behavior = 'PREFER_SYMBOL'
                            then 'foxml_both_strong_prefer_symbol'
                        when
                            enable_experimental_lane and (cs_state = 'EXPERIMENTAL' or local_state = 'EXPERIMENTAL')
                            then 'foxml_experimental_lane'
                        else 'foxml_no_rule_match'
                    end
            else {{ strict_rule | replace('__cs__', 'cs_state') | replace('__local__', 'local_state') | indent(12) }}
        end as base_rule,
        {{ strict_rule | replace('__cs__', 'cs_state_without_hysteresis')
            | replace('__local__', 'local_state_without_hysteresis') | indent(8) }} as base_rule_without_hysteresis
    from pairs

),

ranked as (

    select
        *,
        base_rule in ('both_experimental', 'cs_disallowed_symbol_experimental') as is_experimental_symbol_job,
        cast(floor(experimental_max_fraction_symbols_per_target * n_symbols_with_metrics + 1e-9) as bigint)
            as experimental_cap,
        case
            when base_rule in ('both_experimental', 'cs_disallowed_symbol_experimental')
                then row_number() over (
                        partition by
                            target,
                            base_rule in ('both_experimental', 'cs_disallowed_symbol_experimental')
                        order by local_score desc, symbol asc
                    )
        end as experimental_rank
    from ruled

),

capped as (

    select
        *,
        case
            when is_experimental_symbol_job and experimental_rank > experimental_cap and cs_state = 'EXPERIMENTAL'
                then 'experimental_cap_cs_experimental'
            when is_experimental_symbol_job and experimental_rank > experimental_cap
                then 'experimental_cap_cs_disallowed'
            else base_rule
        end as rule,
        'Experimental cap: local rank ' || cast(experimental_rank as varchar) || ' > cap '
        || cast(experimental_cap as varchar) || ' (max_fraction_symbols_per_target='
        || cast(experimental_max_fraction_symbols_per_target as varchar) || ' × '
        || cast(n_symbols_with_metrics as varchar) || ' symbols with metrics)' as cap_detail
    from ranked

),

routed as (

    select
        *,
        -- the rule → route map, rendered for the rule and for the rule without hysteresis (sqlfluff checks a Jinja
        -- loop's indentation against the template, not the rendered SQL)
        -- noqa: disable=LT02
        {% for column, rule in [('route', 'rule'), ('route_without_hysteresis', 'base_rule_without_hysteresis')] %}
        case
            when {{ rule }} in (
                    'both_production', 'foxml_both_strong'
                ) then 'ROUTE_BOTH'
            when {{ rule }} in (
                    'both_production_prefer_cs', 'cs_production_symbol_experimental', 'cs_production_symbol_disallowed',
                    'foxml_both_strong_prefer_cs', 'foxml_local_disallowed'
                ) then 'ROUTE_CROSS_SECTIONAL'
            when {{ rule }} in (
                    'both_production_prefer_symbol', 'cs_experimental_symbol_production', 'cs_disallowed_symbol_production',
                    'foxml_both_strong_prefer_symbol', 'foxml_cs_disallowed'
                ) then 'ROUTE_SYMBOL_SPECIFIC'
            when {{ rule }} in (
                    'both_experimental', 'cs_experimental_symbol_disallowed', 'cs_disallowed_symbol_experimental',
                    'experimental_cap_cs_experimental', 'foxml_experimental_lane'
                ) then 'ROUTE_EXPERIMENTAL_ONLY'
            else 'ROUTE_BLOCKED'
        end as {{ column }},
        {% endfor %}
        -- noqa: enable=LT02
        case rule
            when 'both_production' then 'Both CS and local strong → ROUTE_BOTH'
            when 'both_production_prefer_cs' then 'Both strong, preferring CS'
            when 'both_production_prefer_symbol' then 'Both strong, preferring local'
            when 'cs_production_symbol_experimental'
                then 'Local experimental, CS strong: CS-only (an experimental signal is not promoted)'
            when 'cs_production_symbol_disallowed' then 'Local disallowed, falling back to CS-only'
            when 'cs_experimental_symbol_production'
                then 'CS experimental, local strong: local-only (an experimental signal is not promoted)'
            when 'cs_disallowed_symbol_production' then 'CS disallowed, falling back to local-only'
            when 'both_experimental' then 'Experimental lane enabled'
            when 'cs_experimental_symbol_disallowed'
                then 'Local disallowed, CS experimental: experimental lane served by the CS job'
            when 'cs_disallowed_symbol_experimental' then 'CS disallowed, local experimental: experimental lane'
            when 'experimental_cap_cs_experimental' then cap_detail || '; experimental lane served by the CS job'
            when 'experimental_cap_cs_disallowed' then cap_detail || '; CS disallowed, blocked'
            when 'both_disallowed' then 'Both CS and local disallowed'
            when 'foxml_both_disallowed' then 'Both CS and local disallowed'
            when 'foxml_cs_disallowed' then 'CS disallowed, falling back to local-only'
            when 'foxml_local_disallowed' then 'Local disallowed, falling back to CS-only'
            when 'foxml_both_strong' then 'Both CS and local strong → ROUTE_BOTH'
            when 'foxml_both_strong_prefer_cs' then 'Both strong, preferring CS'
            when 'foxml_both_strong_prefer_symbol' then 'Both strong, preferring local'
            when 'foxml_experimental_lane' then 'Experimental lane enabled'
            else 'NO_RULE_MATCH'
        end as combination_reason
    from capped

),

final as (

    select
        target,
        symbol,
        semantics,
        has_cs_metrics,
        cs_state,
        local_state,
        base_rule,
        rule,
        route,
        combination_reason,
        n_symbols_with_metrics,
        cs_state_without_hysteresis,
        local_state_without_hysteresis,
        case
            when cs_state = cs_state_without_hysteresis and local_state = local_state_without_hysteresis then route
            else route_without_hysteresis
        end as route_without_hysteresis,
        previous_route,
        experimental_rank,
        experimental_cap,
        route in ('ROUTE_SYMBOL_SPECIFIC', 'ROUTE_BOTH')
        or (semantics = 'foxml' and route = 'ROUTE_EXPERIMENTAL_ONLY')
        or rule in ('both_experimental', 'cs_disallowed_symbol_experimental') as has_symbol_job
    from routed

)

select * from final
