-- One row per (confirmed_quarantine.json, feature): the features leakage detection confirmed for a scope.
with

source as (

    {{ json_documents(
        listed_input('foxml', 'confirmed_quarantines_json'),
        foxml_scope_path_regex(), ['target_dir', 'view', 'path_symbol']
    ) }}

),

renamed as (

    select
        * exclude (doc),
        doc ->> '$.target' as target,
        json_type(doc, '$.confirmed_features') as confirmed_features_json_type,
        upper(doc ->> '$.view') as declared_view,
        doc ->> '$.symbol' as declared_symbol,
        try_cast(doc ->> '$.ts' as timestamptz) as quarantined_at,
        try_cast(doc -> '$.confirmed_features' as varchar[]) as confirmed_features
    from source

),

unnested as (

    select
        * exclude (confirmed_features),
        unnest(coalesce(confirmed_features, [null]::varchar[])) as feature
    from renamed

)

select * from unnested
