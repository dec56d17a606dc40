-- One row per (confirmed_quarantine.json, feature): the features leakage detection confirmed for a scope.
with

source as (

    select * from {{ input_source('foxml', 'confirmed_quarantines_json') }}

),

parsed as (

    select
        filename as source_file,
        regexp_extract(
            filename,
            {{ foxml_scope_path_regex() }},
            ['target_dir', 'view', 'path_symbol']
        ) as path_parts,
        try_cast(content as json) as doc
    from source

),

renamed as (

    select
        source_file,
        nullif(path_parts.target_dir, '') as target_dir,
        nullif(path_parts.view, '') as view,
        nullif(path_parts.path_symbol, '') as path_symbol,
        doc is not null as is_valid_json,
        coalesce(json_type(doc) = 'OBJECT', false) as is_object,
        doc ->> '$.target' as target,
        json_type(doc, '$.confirmed_features') as confirmed_features_json_type,
        upper(doc ->> '$.view') as declared_view,
        doc ->> '$.symbol' as declared_symbol,
        try_cast(doc ->> '$.ts' as timestamptz) as quarantined_at,
        try_cast(doc -> '$.confirmed_features' as varchar[]) as confirmed_features
    from parsed

),

unnested as (

    select
        source_file,
        target_dir,
        view,
        path_symbol,
        is_valid_json,
        is_object,
        target,
        confirmed_features_json_type,
        declared_view,
        declared_symbol,
        quarantined_at,
        unnest(coalesce(confirmed_features, [null]::varchar[])) as feature
    from renamed

)

select * from unnested
