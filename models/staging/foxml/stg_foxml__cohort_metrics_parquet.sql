-- One row per cohort metrics.parquet (the one-row mirror of metrics.json): the same columns as
-- stg_foxml__cohort_metrics. Each row is a JSON document, so a column one file lacks reads as null. A file that is
-- not parquet (base_foxml__cohort_metrics_parquet_files), fails to read (base_foxml__cohort_metrics_parquet_rows,
-- with DuckDB's error) or reads as no rows is one row with a null document: reported as a reject, not a failed
-- build, and never silently absent.
with

files as (

    select * from {{ ref('base_foxml__cohort_metrics_parquet_files') }}

),

parquet_rows as (

    select * from {{ ref('base_foxml__cohort_metrics_parquet_rows') }}

),

source as (

    select
        source_file,
        source_row,
        doc::json as doc,
        read_error
    from parquet_rows
    union all
    -- a file not read as parquet (no magic: the reject's text says so) or that read as no rows
    select
        files.source_file,
        null::bigint as source_row,
        null::json as doc,
        case when files.has_parquet_magic then 'the file has no rows' end as read_error
    from files
    where
        not exists (
            select 1 from parquet_rows
            where parquet_rows.source_file = files.source_file
        )

),

renamed as (

    {{ cohort_metrics_select('source', 'parquet') }}

)

select * from renamed
