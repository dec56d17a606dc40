{{ config(severity='error') }}
-- plan_input_files holds exactly one policy row, and its hash is that of the bytes the policy models parsed
-- (base_policy__files): the plan's config_hash is that row's hash (driver/trainplan/export/header.py), so it
-- names the policy the decisions were made with. A policy path that matched no file, or several (a glob given to
-- plain dbt as var policy_path), fails the build with a message saying how many it matched; a policy file edited
-- between the two reads (base_policy__files and plan_input_files, seconds apart) fails it too, naming the file.
with

input_files as (

    select * from {{ ref('plan_input_files') }}

),

parsed_policy as (

    select * from {{ ref('base_policy__files') }}

),

hashed as (

    select
        count(*) as n_policy_files,
        coalesce(string_agg(path, ', ' order by path), 'none') as paths,
        min(sha256) as sha256
    from input_files
    where input_kind = 'policy'

),

parsed as (

    select
        count(*) as n_parsed_files,
        min(policy_file) as policy_file,
        min(sha256) as sha256
    from parsed_policy

),

checked as (

    select
        case
            when hashed.n_policy_files != 1
                then
                    'plan_input_files holds ' || hashed.n_policy_files || ' routing policy files (' || hashed.paths
                    || '); expected exactly one: var policy_path (env TRAINPLAN_POLICY) must name one file'
            when parsed.n_parsed_files != 1 or hashed.sha256 is distinct from parsed.sha256
                then
                    'the routing policy file ' || coalesce(parsed.policy_file, hashed.paths)
                    || ' is not the file the policy models parsed: they parsed bytes with SHA-256 '
                    || coalesce(parsed.sha256, 'none') || ', plan_input_files hashed ' || coalesce(hashed.sha256, 'none')
                    || '; expected the same bytes (was it edited during the build? run the build again)'
        end as message
    from hashed
    cross join parsed

)

-- the raise sits in the filter: dbt counts this query's rows, and a column nothing reads need not be computed
select message
from checked
where case when message is not null then {{ tp_raise('message') }} else false end
