-- One row per (suspects_<VIEW>_<SYM|ALL>.json, suspect): features leakage detection found dominant (FoxML's
-- dominance quarantine). A file with an empty or unreadable suspects list keeps one row with a null feature.
with

source as (

    {{ json_documents(
        listed_input('foxml', 'quarantine_suspects_json'),
        foxml_scope_path_regex(), ['target_dir', 'view', 'path_symbol']
    ) }}

),

renamed as (

    select
        * exclude (doc),
        doc ->> '$.target' as target,
        upper(trim(doc ->> '$.view')) as declared_view,
        doc ->> '$.symbol' as declared_symbol,
        try_cast(doc ->> '$.ts' as timestamptz) as flagged_at,
        json_type(doc, '$.suspects') as suspects_json_type,
        coalesce(json_array_length(doc, '$.suspects'), 0) as n_suspects,
        doc -> '$.suspects' as suspects
    from source

),

unnested as (

    select
        * exclude (suspects),
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
        * exclude (suspect),
        suspect ->> '$.model_name' as model_name,
        suspect ->> '$.feature' as feature,
        try_cast(suspect ->> '$.top1_share' as double) as top1_share,
        try_cast(suspect ->> '$.top1_over_top2' as double) as top1_over_top2
    from unnested

)

select * from final
