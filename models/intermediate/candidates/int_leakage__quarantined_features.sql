-- Features a scope must not train on: the confirmed quarantine of the scope (symbol null = cross-sectional).
with

confirmed as (

    select * from {{ ref('stg_foxml__confirmed_quarantines') }}

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
        is_valid_json
        and feature is not null

)

select * from scoped
