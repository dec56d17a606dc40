-- The policy's horizon patterns (routing.horizon_patterns), in the order they are tried: the first pattern that
-- matches a target name gives its horizon, the number in the first capture group times the multiplier (minutes).
{%- set policy = load_routing_policy() -%}
{%- set patterns = policy.get('horizon_patterns', []) if execute else [] %}

with

patterns as (

    {% if patterns | length == 0 -%}
        select
            cast(null as integer) as pattern_order,
            cast(null as varchar) as regex,
            cast(null as integer) as multiplier
        where false
    {%- else -%}
        select
            pattern_order,
            regex,
            multiplier
        from (
            values
            {% for p in patterns -%}
                (
                    {{ loop.index }}, {{ sql_string(p['regex']) }},
                    cast({{ sql_number(p['multiplier']) }} as integer)
                ){{ "," if not loop.last }}
            {% endfor %}
        ) as v (pattern_order, regex, multiplier)  -- noqa: AL05
    {%- endif %}

)

select * from patterns
