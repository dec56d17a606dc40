-- Stability per (target, symbol) scope; symbol is null for the cross-sectional scope.
-- Walking skeleton: it assigns snapshots to scopes and counts them; the stability metrics and their
-- classification are computed by the stability models (open issue "stability in SQL").
with

snapshots as (

    select * from {{ ref('stg_foxml__importance_snapshots') }}

),

symbol_universes as (

    select distinct
        metadata.target,
        metrics.symbol,
        metadata.universe_sig
    from {{ ref('stg_foxml__cohort_metadata') }} as metadata
    inner join {{ ref('stg_foxml__cohort_metrics') }} as metrics
        on metadata.metrics_file = metrics.source_file
    where metrics.symbol is not null

),

scoped as (

    select
        snapshots.target,
        symbol_universes.symbol,
        count(*) as n_snapshots
    from snapshots
    left join symbol_universes
        on
            snapshots.target = symbol_universes.target
            and snapshots.universe_sig = symbol_universes.universe_sig
            and snapshots.method != 'multi_model_aggregated'
    where
        snapshots.is_valid_json
        and (snapshots.method = 'multi_model_aggregated' or symbol_universes.symbol is not null)
    group by all

),

classified as (

    select
        target,
        symbol,
        n_snapshots,
        0 as n_comparisons,
        null::double as mean_overlap,
        null::double as std_overlap,
        null::double as mean_tau,
        null::double as std_tau,
        'UNKNOWN' as stability,
        'stability metrics not computed yet' as stability_reason
    from scoped

)

select * from classified
