-- One row per cohort metrics.json: path parts, and the flat keys cast to their types.
with

source as (

    {{ json_documents(listed_input('foxml', 'cohort_metrics_json')) }}

),

renamed as (

    {{ cohort_metrics_select('source', 'json') }}

)

select * from renamed
