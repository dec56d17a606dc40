-- Features a scope must not train on: the confirmed quarantine of the scope (symbol null = cross-sectional),
-- from files without a problem.
with

confirmed as (

    select * from {{ ref('stg_foxml__confirmed_quarantines') }}

),

problems as (

    select * from {{ ref('int_inputs__problems') }}

),

scoped as (

    select distinct
        target,
        path_symbol as symbol,
        feature,
        'confirmed_quarantine' as quarantine_kind,
        source_file
    from confirmed
    where
        feature is not null
        and not {{ is_rejected('confirmed') }}

)

select * from scoped
