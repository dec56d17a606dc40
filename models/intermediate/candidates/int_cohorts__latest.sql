-- The latest cohort per (stage, target, view, symbol), chosen by an explicit timestamp:
-- metadata.json created_at, else metrics.json timestamp; ties broken by cohort id, then file.
with

metrics as (

    select * from {{ ref('stg_foxml__cohort_metrics') }}

),

metadata as (

    select * from {{ ref('stg_foxml__cohort_metadata') }}

),

joined as (

    select
        metrics.*,
        metadata.created_at as cohort_created_at,
        metadata.n_effective as metadata_n_effective,
        coalesce(metadata.created_at, metrics.recorded_at) as recency
    from metrics
    left join metadata
        on metrics.source_file = metadata.metrics_file
    where
        metrics.is_valid_json
        and metrics.target is not null
        and metrics.stage is not null

),

ranked as (

    select
        *,
        row_number() over (
            partition by stage, target, view, symbol
            order by recency desc nulls last, cohort_id desc, source_file desc
        ) as recency_rank
    from joined

),

latest as (

    select
        * exclude (recency_rank),
        coalesce(n_effective, n_effective_cs, n_samples, sample_size) as cohort_sample_size
    from ranked
    where recency_rank = 1

)

select * from latest
