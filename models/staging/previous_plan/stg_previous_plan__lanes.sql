-- The previous plan's lanes (one row per target CS lane and per pair), the input of route hysteresis
-- (docs/decision-semantics.md, "Hysteresis"). No previous plan (previous_lanes_file empty): no rows.
with

source as (

    {{ previous_lanes_rows() }}

),

renamed as (

    select
        cast(target as varchar) as target,
        cast(symbol as varchar) as symbol,
        case when symbol is null then 'cross_sectional' else 'symbol' end as lane,
        upper(cast(state as varchar)) as previous_state,
        cast(route as varchar) as previous_route,
        cast(runs_in_state as bigint) as previous_runs_in_state
    from source

)

select * from renamed
