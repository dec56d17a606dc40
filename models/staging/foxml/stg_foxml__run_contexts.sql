-- globals/run_context.json: the run's resolved view and universe. Metadata only: no model selects rows by it
-- (FoxML selected rows by mode == view; see docs/decision-semantics.md, "Rows and lanes").
with

source as (

    {{ json_documents(run_dir_input('foxml', 'run_context_json')) }}

),

renamed as (

    select
        * exclude (doc),
        upper(trim(doc ->> '$.view')) as view,
        doc ->> '$.view_reason' as view_reason,
        upper(trim(doc ->> '$.data_scope')) as data_scope,
        doc ->> '$.current_universe' as current_universe,
        try_cast(doc ->> '$.n_symbols' as integer) as n_symbols,
        try_cast(doc ->> '$.resolved_at' as timestamptz) as resolved_at
    from source

)

select * from renamed
