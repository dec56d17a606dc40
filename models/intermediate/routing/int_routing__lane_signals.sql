-- The signal state of every candidate in its lane (cross_sectional for the symbol-null row, symbol otherwise);
-- docs/decision-semantics.md, "Lanes: the order of the rules". In order:
--   hard blocks: sample size below the lane minimum (n equal to the minimum passes); leakage_status BLOCKED when
--     block_on_leakage; leakage evidence unreadable (leakage_unreadable_evidence, both semantics, whatever
--     block_on_leakage says: int_leakage__unreadable_evidence — unreadable evidence never removes a block);
--     strict only: n_successful_families below require_min_successful_families (an unknown
--     count, null, does not block: no evidence that families failed);
--   no score (null or NaN) → DISALLOWED;
--   STRONG (score ≥ strong threshold, stability allowed), WEAK_BUT_OK (score ≥ min threshold, stability allowed),
--   EXPERIMENTAL (lane enabled, score ≥ experimental threshold, stability in experimental.allowed_stabilities),
--   else DISALLOWED. A score exactly at a threshold passes.
-- The CS minimum in dev_mode: strict min(dev_mode_min_sample_size, base) (missing key: base); foxml FoxML's
-- min(max(dev_min (missing: 5000), int(0.1·n), 5000), base). Both: in dev_mode a CS cohort smaller than the base
-- minimum also accepts UNKNOWN stability (FoxML's small-cohort allowance).
with

candidates as (

    select * from {{ ref('int_candidates__routing_candidates') }}

),

horizons as (

    select * from {{ ref('int_routing__target_horizons') }}

),

thresholds as (

    select * from {{ ref('stg_policy__thresholds') }}

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

laned as (

    select
        candidates.*,
        case when candidates.symbol is null then 'cross_sectional' else 'symbol' end as lane,
        case
            when
                policy.semantics = 'strict'
                and upper(coalesce(candidates.task_type, '')) like '%MULTICLASS%'
                then 'multiclass'
            when upper(coalesce(candidates.task_type, '')) like '%CLASSIFICATION%' then 'classification'
            else 'regression'
        end as task_class,
        coalesce(candidates.sample_size, 0) as effective_sample_size,
        candidates.score is null or {{ tp_is_nan('candidates.score') }} as is_missing_score,
        horizons.horizon_minutes,
        coalesce(horizons.horizon_tier, 'default') as horizon_tier,
        policy.semantics,
        policy.dev_mode,
        policy.dev_mode_min_sample_size,
        policy.min_sample_size_cross_sectional,
        policy.min_sample_size_symbol,
        policy.block_on_leakage,
        policy.enable_experimental_lane,
        policy.experimental_allowed_stabilities,
        policy.require_min_successful_families,
        case
            when candidates.symbol is null then policy.stability_allowlist_cross_sectional
            else policy.stability_allowlist_symbol
        end as stability_allowlist
    from candidates
    cross join policy
    left join horizons
        on candidates.target = horizons.target

),

lane_thresholds as (

    select
        semantics,
        lane,
        task_class,
        horizon_tier,
        max(case when level = 'strong_score' then threshold end) as strong_threshold,
        max(case when level = 'min_score' then threshold end) as min_threshold,
        max(case when level = 'experimental' then threshold end) as experimental_threshold
    from thresholds
    group by semantics, lane, task_class, horizon_tier

),

with_thresholds as (

    select
        laned.*,
        lane_thresholds.strong_threshold,
        lane_thresholds.min_threshold,
        lane_thresholds.experimental_threshold,
        case
            when laned.lane = 'symbol' then laned.min_sample_size_symbol
            when not laned.dev_mode then laned.min_sample_size_cross_sectional
            when laned.semantics = 'foxml'
                then least(
                        greatest(
                            coalesce(laned.dev_mode_min_sample_size, 5000),
                            cast(floor(0.1 * laned.effective_sample_size) as bigint),
                            5000
                        ),
                        laned.min_sample_size_cross_sectional
                    )
            else least(
                    coalesce(laned.dev_mode_min_sample_size, laned.min_sample_size_cross_sectional),
                    laned.min_sample_size_cross_sectional
                )
        end as min_sample_size
    from laned
    left join lane_thresholds
        on
            laned.semantics = lane_thresholds.semantics
            and laned.lane = lane_thresholds.lane
            and laned.task_class = lane_thresholds.task_class
            and laned.horizon_tier = lane_thresholds.horizon_tier

),

checked as (

    select
        *,
        effective_sample_size < min_sample_size as fails_sample_size,
        block_on_leakage and leakage_status = 'BLOCKED' as fails_leakage,
        leakage_unreadable_evidence is not null as fails_leakage_unreadable,
        semantics = 'strict'
        and n_successful_families is not null
        and n_successful_families < require_min_successful_families as fails_families,
        coalesce({{ tp_list_contains('stability_allowlist', 'stability') }}, false)
        or (
            dev_mode
            and lane = 'cross_sectional'
            and effective_sample_size < min_sample_size_cross_sectional
            and stability = 'UNKNOWN'
        ) as stability_allowed,
        enable_experimental_lane
        and coalesce({{ tp_list_contains('experimental_allowed_stabilities', 'stability') }}, false)
            as experimental_stability_allowed
    from with_thresholds

),

evaluated as (

    select
        *,
        case
            when fails_sample_size then 'sample_size_below_min'
            when fails_leakage then 'leakage_blocked'
            when fails_leakage_unreadable then 'leakage_unreadable'
            when fails_families then 'too_few_successful_families'
            when is_missing_score then 'no_score'
            when stability_allowed and score >= strong_threshold then 'strong'
            when stability_allowed and score >= min_threshold then 'weak_but_ok'
            when experimental_stability_allowed and score >= experimental_threshold then 'experimental'
            when not stability_allowed and not experimental_stability_allowed then 'stability_not_allowed'
            else 'below_thresholds'
        end as lane_rule
    from checked

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
        case
            when lane_rule = 'strong' then strong_threshold
            when lane_rule in ('weak_but_ok', 'stability_not_allowed') then min_threshold
            when lane_rule = 'experimental' then experimental_threshold
            when lane_rule = 'below_thresholds' and stability_allowed and experimental_stability_allowed
                then least(min_threshold, experimental_threshold)
            when lane_rule = 'below_thresholds' and stability_allowed then min_threshold
            when lane_rule = 'below_thresholds' then experimental_threshold
        end as held_threshold
    from evaluated

),

final as (

    select
        *,
        score - held_threshold as margin,
        case
            when signal_state = 'DISALLOWED'
                then concat_ws(
                        '; ',
                        case
                            when fails_sample_size
                                then 'sample_size=' || cast(effective_sample_size as varchar)
                                    || ' < ' || cast(min_sample_size as varchar)
                        end,
                        case when fails_leakage then 'leakage_status=BLOCKED' end,
                        case
                            when fails_leakage_unreadable
                                then 'leakage evidence unreadable: ' || leakage_unreadable_evidence
                        end,
                        case
                            when fails_families
                                then 'n_successful_families=' || cast(n_successful_families as varchar)
                                    || ' < ' || cast(require_min_successful_families as varchar)
                        end,
                        case when is_missing_score then 'no score' end,
                        case
                            when not stability_allowed and not experimental_stability_allowed
                                then 'stability=' || stability || ' not in ['
                                    || {{ tp_array_join('stability_allowlist', "', '") }} || ']'
                        end,
                        case
                            when not is_missing_score and score < held_threshold
                                then 'score=' || {{ tp_format_fixed('score', 3) }}
                                    || ' < ' || {{ tp_format_fixed('held_threshold', 3) }}
                        end
                    )
        end as disabled_reason
    from stated

)

select * from final
