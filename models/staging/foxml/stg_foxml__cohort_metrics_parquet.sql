-- One row per cohort metrics.parquet (the one-row mirror of metrics.json): the same columns as
-- stg_foxml__cohort_metrics. Each row is turned into a JSON document so a column one file lacks is a null key.
with

source as (

    {%- set pattern = foxml_run_dir() ~ '/targets/*/reproducibility/**/cohort=*/metrics.parquet' %}
    {{ rows_as_json(source('foxml', 'cohort_metrics_parquet'), pattern) }}

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
