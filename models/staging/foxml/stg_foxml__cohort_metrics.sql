-- One row per cohort metrics.json: path parts, and the flat keys cast to their types.
with

source as (

    select * from {{ source('foxml', 'cohort_metrics_json') }}

),

parsed as (

    select
        filename as source_file,
        regexp_extract(
            filename,
            '/targets/([^/]+)/reproducibility/(?:stage=([^/]+)/)?(CROSS_SECTIONAL|SYMBOL_SPECIFIC)/'
            || '(?:symbol=([^/]+)/)?(?:universe=([^/]+)/)?cohort=([^/]+)/metrics\.json$',
            ['target_dir', 'stage_dir', 'view', 'symbol', 'universe', 'cohort_id']
        ) as path_parts,
        try_cast(content as json) as doc
    from source

),

renamed as (

    select
        source_file,
        nullif(path_parts.target_dir, '') as target_dir,
        upper(nullif(path_parts.stage_dir, '')) as path_stage,
        nullif(path_parts.view, '') as view,
        nullif(path_parts.symbol, '') as symbol,
        nullif(path_parts.universe, '') as universe_dir,
        nullif(path_parts.cohort_id, '') as cohort_id,
        doc is not null as is_valid_json,
        upper(doc ->> '$.stage') as stage,
        doc ->> '$.target' as target,
        doc ->> '$.metric_name' as metric_name,
        upper(doc ->> '$.task_type') as task_type,
        try_cast(doc ->> '$.auc' as double) as score,
        json_type(doc, '$.auc') as score_json_type,
        try_cast(doc ->> '$.n_effective' as double) as n_effective,
        try_cast(doc ->> '$.n_effective_cs' as double) as n_effective_cs,
        try_cast(doc ->> '$.n_samples' as double) as n_samples,
        try_cast(doc ->> '$.sample_size' as double) as sample_size,
        try_cast(doc ->> '$.n_successful_families' as double) as n_successful_families,
        upper(doc ->> '$.leakage_flag') as leakage_flag,
        try_cast(doc ->> '$.timestamp' as timestamp) as recorded_at
    from parsed

)

select * from renamed
