-- Horizon (minutes) and threshold tier of every candidate target, parsed from the target name with the
-- policy's horizon patterns (first match wins; a name containing same_day is 390 minutes).
{%- set policy = load_routing_policy() -%}
{%- set patterns = policy.get('horizon_patterns', []) if execute else [] %}

with

targets as (

    select distinct target from {{ ref('routing_candidates') }}

),

patterns as (

    {% if patterns | length == 0 -%}
        select
            null::integer as pattern_order,
            null::varchar as regex,
            null::integer as multiplier
        where false
    {%- else -%}
        select
            pattern_order,
            regex,
            multiplier::integer as multiplier
        from (
            values
            {% for p in patterns -%}
            ({{ loop.index }}, {{ sql_string(p['regex']) }}, {{ sql_string(p['multiplier']) }}){{ "," if not loop.last }}
        {% endfor %}
        ) as v (pattern_order, regex, multiplier)  -- noqa: AL05
    {%- endif %}

),

matches as (

    select
        targets.target,
        patterns.pattern_order,
        regexp_extract(targets.target, '(?i)' || patterns.regex, 1)::integer * patterns.multiplier as minutes
    from targets
    inner join patterns
        on regexp_matches(targets.target, '(?i)' || patterns.regex)

),

first_match as (

    select
        target,
        minutes
    from matches
    qualify row_number() over (partition by target order by pattern_order) = 1

),

horizons as (

    select
        targets.target,
        case
            when lower(targets.target) like '%same_day%' then 390
            else first_match.minutes
        end as horizon_minutes
    from targets
    left join first_match
        on targets.target = first_match.target

),

tiered as (

    select
        target,
        horizon_minutes,
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
