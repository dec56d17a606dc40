{%- set checks = json_shape_checks(
    "'a JSON object with cohort_id, stage, target and created_at (docs/input-files.md, Cohort metadata)'"
) + [
    {'when': "created_at_text is not null and created_at is null",
     'problem': "'key created_at ''' || created_at_text || ''' is not a time'",
     'expected': "'an ISO date-time'"},
    {'when': "not has_metrics_file",
     'problem': "'cohort folder has metadata.json but no metrics.json or metrics.parquet'",
     'expected': "'metrics.json or metrics.parquet beside metadata.json (docs/input-files.md, Cohort metrics)'"},
] -%}

-- The problems of cohort metadata.json files: a file that does not parse, a created_at that is not a time, and a
-- cohort folder with metadata.json but no metrics file.
with

cohort_metadata as (

    select * from {{ ref('stg_foxml__cohort_metadata') }}

),

cohort_metrics as (

    select * from {{ ref('int_cohorts__metrics') }}

),

metrics_folders as (

    select distinct cohort_folder from cohort_metrics

),

metadata as (

    select
        cohort_metadata.*,
        metrics_folders.cohort_folder is not null as has_metrics_file
    from cohort_metadata
    left join metrics_folders
        on cohort_metadata.cohort_folder = metrics_folders.cohort_folder

),

problems as (

    {{ checks_as_problems('metadata', checks, artifact="'metadata.json'", symbol='null') }}

)

select * from problems
