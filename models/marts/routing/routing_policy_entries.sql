-- routing_policy_entries: the effective routing policy in long form — one row per leaf key (dotted path, list
-- positions in brackets), after validation and defaults, for ad-hoc SQL and diffs between two policies.
{%- set p = load_routing_policy() -%}
{%- set entries = [] -%}
{%- if execute -%}
    {%- do policy_flatten('routing', p, entries) -%}
{%- endif %}

with

entries as (

    {% if entries | length == 0 -%}
        select
            cast(null as varchar) as policy_key,
            cast(null as varchar) as policy_value,
            cast(null as varchar) as value_type
        where false
    {%- else -%}
        select
            policy_key,
            policy_value,
            value_type
        from (
            values
            {% for e in entries -%}
                ({{ sql_string(e[0]) }}, {{ sql_string(e[1]) }}, {{ sql_string(e[2]) }}){{ "," if not loop.last }}
            {% endfor %}
        ) as v (policy_key, policy_value, value_type)  -- noqa: AL05
    {%- endif %}

)

select * from entries
