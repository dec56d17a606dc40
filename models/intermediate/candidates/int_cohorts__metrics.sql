-- Every cohort metrics file (metrics.json and metrics.parquet) with its cohort's metadata.json: the cohort's
-- recency (metadata created_at, else metrics timestamp) and its sample size by FoxML's accessor order.
with

metrics_json as (

    select * from {{ ref('stg_foxml__cohort_metrics') }}

),

metrics_parquet as (

    select * from {{ ref('stg_foxml__cohort_metrics_parquet') }}

),

metadata as (

    select * from {{ ref('stg_foxml__cohort_metadata') }}

),

metrics as (

    select * from metrics_json
    union all
    select * from metrics_parquet

),

joined as (

    select
        metrics.*,
        metadata.source_file as metadata_file,
        metadata.created_at as cohort_created_at,
        metadata.n_effective as metadata_n_effective,
        metadata.universe_sig,
        coalesce(metadata.created_at, metrics.recorded_at) as recency,
        case metrics.sample_size_key
            when 'n_effective' then metrics.n_effective
            when 'n_effective_cs' then metrics.n_effective_cs
            when 'n_samples' then metrics.n_samples
            when 'sample_size' then metrics.sample_size
        end as cohort_sample_size
    from metrics
    left join metadata
        on metrics.cohort_folder = metadata.cohort_folder

)

select * from joined
