-- One row per cohort metrics.parquet (the one-row mirror of metrics.json): the same columns as
-- stg_foxml__cohort_metrics. Each row is turned into a JSON document so a column one file lacks is a null key;
-- a file that is not a readable parquet file is one row with a null document (reported, not a failed build).
-- depends_on: {{ source('foxml', 'cohort_metrics_parquet') }}
with

source as (

    {{ readable_parquet_rows_as_json(foxml_run_dir() ~ '/targets/*/reproducibility/**/cohort=*/metrics.parquet') }}

),

parsed as (

    select
        source_file,
        'parquet' as file_format,
        {{ cohort_metrics_path_parts('source_file') }} as path_parts,
        doc
    from source

),

renamed as (

    select
        {{ cohort_metrics_columns() }}
    from parsed

)

select * from renamed
