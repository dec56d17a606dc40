-- The routing policy file's bytes, read once per build. The policy models (stg_policy__*) parse this row's
-- content when they compile (load_routing_policy, macros/routing_policy.sql), so all of them parse the same
-- bytes, and data test plan_input_files_hold_the_parsed_policy checks that the policy file plan_input_files
-- hashed (the plan's config_hash) still has them: a policy edited while the build runs fails it.
-- One row per file the var policy_path matches (a refresh gives one file; plain dbt may give a glob, which
-- load_routing_policy refuses unless it matches exactly one file).
{%- set path = policy_path() %}
{%- do require_policy_file(path) %}

with

source as (

    select
        filename,
        content
    from read_blob({{ sql_string(path) }})

),

files as (

    select
        filename as policy_file,
        {{ sql_string(path) }} as policy_path,
        {{ utf8_text('content') }} as content,
        sha256(content) as sha256
    from source

)

select * from files
