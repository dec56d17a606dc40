-- The policy's score thresholds, one row per (lane, level, task class, horizon tier).
{%- set policy = load_routing_policy() -%}
{%- set tiers = ['default', 'short', 'medium', 'long', 'very_long'] -%}
{%- set rows = [] -%}
{%- if execute -%}
    {%- for lane, section in [('cross_sectional', policy.get('cross_sectional', {})), ('symbol', policy.get('symbol', {}))] -%}
        {%- for level in ['min_score', 'strong_score'] -%}
            {%- set value = section.get(level) -%}
            {%- for task_class in ['classification', 'regression'] -%}
                {%- for tier in tiers -%}
                    {%- if value is mapping -%}
                        {%- set v = value.get(task_class, 0.5 if task_class == 'classification' else -0.5) -%}
                        {%- if v is mapping -%}
                            {%- set v = v.get(tier, v.get('default', -0.5)) -%}
                        {%- endif -%}
                    {%- else -%}
                        {%- set v = value -%}
                    {%- endif -%}
                    {%- do rows.append((lane, level, task_class, tier, v)) -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

with

thresholds as (

    {% if rows | length == 0 -%}
        select
            null::varchar as lane,
            null::varchar as level,
            null::varchar as task_class,
            null::varchar as horizon_tier,
            null::double as threshold
        where false
    {%- else -%}
        select
            lane,
            level,
            task_class,
            horizon_tier,
            threshold::double as threshold
        from (
            values
            {% for r in rows -%}
                (
                    {{ sql_string(r[0]) }}, {{ sql_string(r[1]) }}, {{ sql_string(r[2]) }}, {{ sql_string(r[3]) }}, {{ sql_string(r[4]) }}
                ){{ "," if not loop.last }}
            {% endfor %}
        ) as v (lane, level, task_class, horizon_tier, threshold)  -- noqa: AL05
    {%- endif %}

)

select * from thresholds
