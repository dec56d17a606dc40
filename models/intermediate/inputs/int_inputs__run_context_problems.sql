{%- set checks = json_shape_checks("'a JSON object with view, n_symbols and current_universe (docs/input-files.md, Run context)'") -%}

-- The problems of globals/run_context.json: a file that does not parse. Its keys are metadata only.
with

run_contexts as (

    select * from {{ ref('stg_foxml__run_contexts') }}

),

problems as (

    {{ checks_as_problems('run_contexts', checks, artifact="'run_context.json'", target='null', symbol='null') }}

)

select * from problems
