-- rejected_inputs: one row per problem found in the inputs — the file (or folder), the row when the file has
-- rows, what was wrong and what was expected. Nothing listed here reaches routing_candidates.
with

file_problems as (

    select * from {{ ref('int_inputs__problems') }}

),

folder_problems as (

    select * from {{ ref('int_inputs__folder_problems') }}

),

problems as (

    select * from file_problems
    union all
    select * from folder_problems

),

final as (

    select
        source_file,
        source_row,
        artifact,
        target,
        symbol,
        problem,
        expected
    from problems

)

select * from final
