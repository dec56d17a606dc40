-- One row per cohort metadata.json: the cohort's creation time, universe and sample size.
with

source as (

    select * from {{ source('foxml', 'cohort_metadata_json') }}

),

parsed as (

    select
        filename as source_file,
        regexp_extract(filename, '/cohort=([^/]+)/metadata\.json$', 1) as cohort_dir,
        try_cast(content as json) as doc
    from source

),

renamed as (

    select
        source_file,
        replace(source_file, '/metadata.json', '/metrics.json') as metrics_file,
        cohort_dir,
        doc is not null as is_valid_json,
        doc ->> '$.cohort_id' as cohort_id,
        upper(doc ->> '$.stage') as stage,
        upper(doc ->> '$.view') as view,
        doc ->> '$.target' as target,
        doc ->> '$.universe_sig' as universe_sig,
        try_cast(doc ->> '$.n_effective' as double) as n_effective,
        try_cast(doc ->> '$.n_symbols' as integer) as n_symbols,
        try_cast(doc ->> '$.created_at' as timestamp) as created_at
    from parsed

)

select * from renamed
