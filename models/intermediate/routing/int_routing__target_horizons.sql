-- Horizon (minutes) and threshold tier of every candidate target (docs/decision-semantics.md, "Thresholds"): a name containing
-- same_day (any case) is the policy's same_day_minutes (390); otherwise the first horizon pattern, in order, that
-- matches anywhere in the name (case-insensitive) gives number × multiplier. No match: no horizon, tier default.
-- Tiers: < 60 short, < 240 medium, < 1440 long, else very_long.
with

candidates as (

    select * from {{ ref('int_candidates__routing_candidates') }}

),

patterns as (

    select * from {{ ref('stg_policy__horizon_patterns') }}

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

targets as (

    select distinct target from candidates

),

matches as (

    select
        targets.target,
        patterns.pattern_order,
        patterns.regex,
        cast({{ tp_regexp_group('targets.target', 'patterns.regex') }} as bigint) * patterns.multiplier as minutes,
        row_number() over (partition by targets.target order by patterns.pattern_order) as match_rank
    from targets
    inner join patterns
        on {{ tp_regexp_matches('targets.target', 'patterns.regex') }}

),

horizons as (

    select
        targets.target,
        case
            when lower(targets.target) like '%same_day%' then policy.same_day_minutes
            else matches.minutes
        end as horizon_minutes,
        case
            when lower(targets.target) like '%same_day%' then 'same_day'
            else matches.regex
        end as horizon_source
    from targets
    cross join policy
    left join matches
        on
            targets.target = matches.target
            and matches.match_rank = 1

),

tiered as (

    select
        target,
        horizon_minutes,
        horizon_source,
        case
            when horizon_minutes is null then 'default'
            when horizon_minutes < 60 then 'short'
            when horizon_minutes < 240 then 'medium'
            when horizon_minutes < 1440 then 'long'
            else 'very_long'
        end as horizon_tier
    from horizons

)

select * from tiered
