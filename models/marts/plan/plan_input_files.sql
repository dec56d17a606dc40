-- plan_input_files: the raw files this build read and their content hashes, frozen at build time (a table), so
-- the exported plan's inputs_fingerprint describes the files the decisions were made on.
with

input_files as (

    select * from {{ ref('stg_plan__input_files') }}

),

final as (

    select
        input_kind,
        path,
        sha256
    from input_files

)

select * from final
