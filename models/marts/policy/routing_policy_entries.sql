-- routing_policy_entries: the effective routing policy in long form, one row per leaf key. Built by
-- stg_policy__entries; kept here as the public face for ad-hoc SQL and diffs between two policies.
with

entries as (

    select * from {{ ref('stg_policy__entries') }}

)

select * from entries
