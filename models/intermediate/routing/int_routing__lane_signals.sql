-- The signal state of every candidate in its lane (cross_sectional for symbol-null rows, symbol otherwise):
-- hard blocks first, then STRONG, WEAK_BUT_OK, EXPERIMENTAL, else DISALLOWED, with the threshold and margin.
with

candidates as (

    select * from {{ ref('routing_candidates') }}

),

horizons as (

    select * from {{ ref('int_routing__target_horizons') }}

),

thresholds as (

    select * from {{ ref('int_policy__thresholds') }}

),

policy as (

    select * from {{ ref('routing_policy') }}

),

laned as (

    select
        candidates.*,
        case when candidates.symbol is null then 'cross_sectional' else 'symbol' end as lane,
        case
            when upper(coalesce(candidates.task_type, '')) like '%CLASSIFICATION%' then 'classification'
            else 'regression'
        end as task_class,
        horizons.horizon_minutes,
        horizons.horizon_tier
    from candidates
    left join horizons
        on candidates.target = horizons.target

),

with_thresholds as (

    select
        laned.*,
        strong.threshold as strong_threshold,
        weak.threshold as min_threshold,
        case
            when laned.task_class = 'classification' then policy.experimental_min_score
            else weak.threshold
        end as experimental_threshold,
        case
            when laned.lane = 'symbol' then policy.min_sample_size_symbol
            when policy.dev_mode
                then least(policy.dev_mode_min_sample_size, policy.min_sample_size_cross_sectional)
            else policy.min_sample_size_cross_sectional
        end as min_sample_size,
        case
            when laned.lane = 'symbol' then policy.stability_allowlist_symbol
            else policy.stability_allowlist_cross_sectional
        end as stability_allowlist,
        policy.block_on_leakage,
        policy.enable_experimental_lane,
        policy.experimental_allowed_stabilities,
        policy.require_min_successful_families
    from laned
    cross join policy
    left join thresholds as strong
        on
            laned.lane = strong.lane
            and strong.level = 'strong_score'
            and laned.task_class = strong.task_class
            and laned.horizon_tier = strong.horizon_tier
    left join thresholds as weak
        on
            laned.lane = weak.lane
            and weak.level = 'min_score'
            and laned.task_class = weak.task_class
            and laned.horizon_tier = weak.horizon_tier

),

evaluated as (

    select
        *,
        case
            when coalesce(sample_size, 0) < min_sample_size then 'sample_size'
            when block_on_leakage and leakage_status = 'BLOCKED' then 'leakage_blocked'
            when n_successful_families < require_min_successful_families then 'min_successful_families'
            when score is null or isnan(score) then 'no_score'
            when score >= strong_threshold and list_contains(stability_allowlist, stability) then 'strong'
            when score >= min_threshold and list_contains(stability_allowlist, stability) then 'weak_but_ok'
            when
                enable_experimental_lane
                and score >= experimental_threshold
                and list_contains(experimental_allowed_stabilities, stability)
                then 'experimental'
            else 'below_thresholds'
        end as lane_rule
    from with_thresholds

),

stated as (

    select
        *,
        case lane_rule
            when 'strong' then 'STRONG'
            when 'weak_but_ok' then 'WEAK_BUT_OK'
            when 'experimental' then 'EXPERIMENTAL'
            else 'DISALLOWED'
        end as signal_state,
        case lane_rule
            when 'strong' then strong_threshold
            when 'experimental' then experimental_threshold
            else min_threshold
        end as held_threshold
    from evaluated

),

final as (

    select
        *,
        score - held_threshold as margin
    from stated

)

select * from final
