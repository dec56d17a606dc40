-- routing_policy: the effective routing policy (one row), every setting as a typed column. Built by
-- stg_policy__settings from the policy YAML; kept here as the public face for readers and the export.
with

settings as (

    select * from {{ ref('stg_policy__settings') }}

)

select * from settings
