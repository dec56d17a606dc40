-- Every problem found in a raw file or row of the inputs: one row per (file [, row], problem), with what was
-- expected. The rules live in one model per kind of input (int_inputs__*_problems); the models that use the
-- inputs leave out every file (or row) listed here.
with

cohort_metric_problems as (

    select * from {{ ref('int_inputs__cohort_metric_problems') }}

),

metadata_problems as (

    select * from {{ ref('int_inputs__metadata_problems') }}

),

confidence_problems as (

    select * from {{ ref('int_inputs__confidence_problems') }}

),

quarantine_problems as (

    select * from {{ ref('int_inputs__quarantine_problems') }}

),

ranking_problems as (

    select * from {{ ref('int_inputs__ranking_problems') }}

),

run_context_problems as (

    select * from {{ ref('int_inputs__run_context_problems') }}

),

snapshot_problems as (

    select * from {{ ref('int_inputs__snapshot_problems') }}

),

candidates_file_problems as (

    select * from {{ ref('int_inputs__candidates_file_problems') }}

),

problems as (

    select * from cohort_metric_problems
    union all
    select * from metadata_problems
    union all
    select * from confidence_problems
    union all
    select * from quarantine_problems
    union all
    select * from ranking_problems
    union all
    select * from run_context_problems
    union all
    select * from snapshot_problems
    union all
    select * from candidates_file_problems

)

select * from problems
