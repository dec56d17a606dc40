-- One row per cohort metrics.parquet (the one-row mirror of metrics.json): the same columns as
-- stg_foxml__cohort_metrics. Each row is turned into a JSON document, so a column one file lacks reads as null;
-- a file that is not a readable parquet file is one row with a null document (reported, not a failed build).
-- The files are read one parquet schema at a time (macro parquet_schema_groups), so each keeps its own types.
-- depends_on: {{ source('foxml', 'cohort_metrics_parquet') }}
with

source as (

    {{ readable_parquet_rows_as_json(foxml_run_dir() ~ '/targets/*/reproducibility/**/cohort=*/metrics.parquet') }}

),

renamed as (

    {{ cohort_metrics_select('source', 'parquet') }}

)

select * from renamed
