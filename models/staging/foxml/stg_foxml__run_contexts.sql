-- globals/run_context.json (reference §1.2): the run's resolved view and universe. Metadata only: no model
-- selects rows by it (the reference's mode == run_view bug, §3.9 #3).
with

source as (

    select * from {{ input_source('foxml', 'run_context_json') }}

),

parsed as (

    select
        filename as source_file,
        try_cast(content as json) as doc
    from source

),

renamed as (

    select
        source_file,
        doc is not null as is_valid_json,
        coalesce(json_type(doc) = 'OBJECT', false) as is_object,
        upper(trim(doc ->> '$.view')) as view,
        doc ->> '$.view_reason' as view_reason,
        upper(trim(doc ->> '$.data_scope')) as data_scope,
        doc ->> '$.current_universe' as current_universe,
        try_cast(doc ->> '$.n_symbols' as integer) as n_symbols,
        try_cast(doc ->> '$.resolved_at' as timestamptz) as resolved_at
    from parsed

)

select * from renamed
