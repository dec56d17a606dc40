-- One row per cohort metrics.json: path parts, and the flat keys cast to their types.
with

source as (

    select * from {{ input_source('foxml', 'cohort_metrics_json') }}

),

parsed as (

    select
        filename as source_file,
        'json' as file_format,
        {{ cohort_metrics_path_parts('filename') }} as path_parts,
        try_cast(content as json) as doc
    from source

),

renamed as (

    select
        {{ cohort_metrics_columns() }}
    from parsed

)

select * from renamed
