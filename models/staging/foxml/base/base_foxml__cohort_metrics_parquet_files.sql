-- The listed cohort metrics.parquet files, each with whether its bytes can be parquet (12 bytes or more, 'PAR1' at
-- both ends). A file that cannot is not read as parquet: it becomes a reject (stg_foxml__cohort_metrics_parquet).
-- base_foxml__cohort_metrics_parquet_rows reads the others.
with

source as (

    select
        filename,
        size,
        content
    from {{ listed_input('foxml', 'cohort_metrics_parquet') }}

),

checked as (

    select
        filename as source_file,
        coalesce(size >= 12 and content[1:4] = 'PAR1'::blob and content[size - 3:size] = 'PAR1'::blob, false)
            as has_parquet_magic
    from source

)

select * from checked
