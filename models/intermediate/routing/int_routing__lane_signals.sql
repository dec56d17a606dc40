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
-- Hysteresis (strict, hysteresis.enabled; docs/decision-semantics.md, "Hysteresis"), against the lane's state in
-- the previous plan: a level above that state is reached only at threshold + band, a level at or below it is kept
-- down to threshold − band (CTE `barred`); a lane younger than min_runs_before_change keeps its state. Hard blocks
-- and a missing score act at once. lane_rule_without_hysteresis is the same rule on the bare thresholds.
{%- set levels = [('strong', 'strong_threshold', 3), ('min', 'min_threshold', 2), ('experimental', 'experimental_threshold', 1)] %}
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

previous as (

    select * from {{ ref('stg_previous_plan__lanes') }}

),

bands as (

    select * from {{ ref('stg_policy__hysteresis_bands') }}

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
        coalesce(policy.hysteresis_enabled, false) as hysteresis_enabled,
        coalesce(policy.hysteresis_min_runs_before_change, 1) as hysteresis_min_runs_before_change,
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

with_previous as (

    select
        checked.*,
        previous.previous_state,
        previous.previous_route,
        previous.previous_runs_in_state,
        coalesce(bands.band, 0) as hysteresis_band,
        case previous.previous_state
            when 'STRONG' then 3
            when 'WEAK_BUT_OK' then 2
            when 'EXPERIMENTAL' then 1
            else 0
        end as previous_rank,
        case
            when not checked.hysteresis_enabled then 'off'
            when checked.semantics = 'foxml' then 'ignored_under_foxml'
            when previous.previous_state is null then 'first_run'
            when
                checked.fails_sample_size or checked.fails_leakage or checked.fails_leakage_unreadable
                or checked.fails_families or checked.is_missing_score
                then 'hard_block'
            when coalesce(previous.previous_runs_in_state, 1) < checked.hysteresis_min_runs_before_change
                then 'min_runs'
            else 'band'
        end as hysteresis_status
    from checked
    left join previous
        on {{ same_scope('checked', 'previous') }}
    left join bands
        on
            checked.lane = bands.lane
            and checked.task_class = bands.task_class
            and checked.horizon_tier = bands.horizon_tier

),

barred as (

    select
        *,
        -- noqa: disable=LT02
        {% for name, threshold, rank in levels %}
        case
            when hysteresis_status = 'band' and previous_rank >= {{ rank }} then {{ threshold }} - hysteresis_band
            when hysteresis_status = 'band' then {{ threshold }} + hysteresis_band
            when hysteresis_status = 'min_runs' and previous_rank >= {{ rank }} then -1e300
            when hysteresis_status = 'min_runs' then 1e300
            else {{ threshold }}
        end as {{ name }}_bar{{ ',' if not loop.last }}
        {% endfor %}
    -- noqa: enable=LT02
    from with_previous

),

evaluated as (

    select
        *,
        -- noqa: disable=LT02
        {% for column, suffix in [('lane_rule', '_bar'), ('lane_rule_without_hysteresis', '_threshold')] %}
        case
            when fails_sample_size then 'sample_size_below_min'
            when fails_leakage then 'leakage_blocked'
            when fails_leakage_unreadable then 'leakage_unreadable'
            when fails_families then 'too_few_successful_families'
            when is_missing_score then 'no_score'
            when stability_allowed and score >= strong{{ suffix }} then 'strong'
            when stability_allowed and score >= min{{ suffix }} then 'weak_but_ok'
            when experimental_stability_allowed and score >= experimental{{ suffix }} then 'experimental'
            when not stability_allowed and not experimental_stability_allowed then 'stability_not_allowed'
            else 'below_thresholds'
        end as {{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    -- noqa: enable=LT02
    from barred

),

stated as (

    select
        *,
        -- noqa: disable=LT02
        {% for column, rule in [('signal_state', 'lane_rule'), ('signal_state_without_hysteresis', 'lane_rule_without_hysteresis')] %}
        case {{ rule }}
            when 'strong' then 'STRONG'
            when 'weak_but_ok' then 'WEAK_BUT_OK'
            when 'experimental' then 'EXPERIMENTAL'
            else 'DISALLOWED'
        end as {{ column }},
        {% endfor %}
        -- noqa: enable=LT02
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

held as (

    select
        *,
        signal_state <> signal_state_without_hysteresis as held_by_hysteresis,
        case
            when signal_state = previous_state then coalesce(previous_runs_in_state, 1) + 1
            else 1
        end as runs_in_state,
        case signal_state_without_hysteresis
            when 'STRONG' then 3
            when 'WEAK_BUT_OK' then 2
            when 'EXPERIMENTAL' then 1
            else 0
        end > previous_rank as is_promotion_held
    from stated

),

final as (

    select
        * exclude (is_promotion_held),
        case
            when held_by_hysteresis and hysteresis_status = 'band' and is_promotion_held then hysteresis_band
            when held_by_hysteresis and hysteresis_status = 'band' then -hysteresis_band
        end as hysteresis_needed_margin,
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
                        end,
                        case
                            when held_by_hysteresis
                                then 'held by hysteresis at ' || previous_state || ' (would be '
                                    || signal_state_without_hysteresis || ')'
                        end
                    )
        end as disabled_reason
    from held

)

select * from final
