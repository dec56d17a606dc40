{{ config(severity='error') }}
-- plan_input_files holds exactly one policy row: the plan's config_hash is that row's hash
-- (driver/trainplan/export/header.py). A policy path that matched no file, or several (a glob given to plain dbt
-- as var policy_path), fails the build with a message saying how many it matched.
with

input_files as (

    select * from {{ ref('plan_input_files') }}

),

policy_rows as (

    select
        count(*) as n_policy_files,
        'plan_input_files holds ' || count(*) || ' routing policy files (' || coalesce(string_agg(path, ', ' order by path), 'none')
        || '); expected exactly one: var policy_path (env TRAINPLAN_POLICY) must name one file' as message
    from input_files
    where input_kind = 'policy'

)

-- the raise sits in the filter: dbt counts this query's rows, and a column nothing reads is never computed
select
    n_policy_files,
    message
from policy_rows
where case when n_policy_files != 1 then {{ tp_raise('message') }} else false end
