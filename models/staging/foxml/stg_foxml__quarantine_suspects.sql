-- One row per (suspects_<VIEW>_<SYM|ALL>.json, suspect): features leakage detection found dominant (reference §1.5).
-- A file with an empty or unreadable suspects list keeps one row with a null feature.
with

source as (

    select * from {{ input_source('foxml', 'quarantine_suspects_json') }}

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
        upper(trim(doc ->> '$.view')) as declared_view,
        doc ->> '$.symbol' as declared_symbol,
        try_cast(doc ->> '$.ts' as timestamptz) as flagged_at,
        json_type(doc, '$.suspects') as suspects_json_type,
        coalesce(json_array_length(doc, '$.suspects'), 0) as n_suspects,
        doc -> '$.suspects' as suspects
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
        declared_view,
        declared_symbol,
        flagged_at,
        suspects_json_type,
        n_suspects,
        unnest(
            case
                when suspects_json_type = 'ARRAY' and n_suspects > 0 then try_cast(suspects as json[])
                else [null]::json[]
            end
        ) as suspect
    from renamed

),

final as (

    select
        source_file,
        target_dir,
        view,
        path_symbol,
        is_valid_json,
        is_object,
        target,
        declared_view,
        declared_symbol,
        flagged_at,
        suspects_json_type,
        n_suspects,
        suspect ->> '$.model_name' as model_name,
        suspect ->> '$.feature' as feature,
        try_cast(suspect ->> '$.top1_share' as double) as top1_share,
        try_cast(suspect ->> '$.top1_over_top2' as double) as top1_over_top2
    from unnested

)

select * from final
