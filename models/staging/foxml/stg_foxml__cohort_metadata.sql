-- One row per cohort metadata.json: the cohort's creation time, universe and sample size.
with

source as (

    {{ json_documents(listed_input('foxml', 'cohort_metadata_json')) }}

),

renamed as (

    select
        source_file,
        replace(source_file, '/metadata.json', '/metrics.json') as metrics_file,
        regexp_replace(source_file, '/[^/]+$', '') as cohort_folder,
        regexp_extract(source_file, '/cohort=([^/]+)/metadata\.json$', 1) as cohort_dir,
        is_valid_utf8,
        is_valid_json,
        is_object,
        strict_json_problem,
        doc ->> '$.cohort_id' as cohort_id,
        upper(trim(doc ->> '$.stage')) as stage,
        upper(trim(doc ->> '$.view')) as view,
        doc ->> '$.target' as target,
        doc ->> '$.universe_sig' as universe_sig,
        try_cast(doc ->> '$.n_effective' as double) as n_effective,
        try_cast(doc ->> '$.n_symbols' as integer) as n_symbols,
        doc ->> '$.created_at' as created_at_text,
        try_cast(doc ->> '$.created_at' as timestamp) as created_at
    from source

)

select * from renamed
