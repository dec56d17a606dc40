-- One row per target_confidence.json (reference §1.3d): the feature-selection confidence of a scope.
with

source as (

    select * from {{ input_source('foxml', 'target_confidences_json') }}

),

parsed as (

    select
        filename as source_file,
        regexp_extract(
            filename,
            {{ foxml_scope_path_regex() }}
            || '(?:universe=[^/]+/)?target_confidence\.json$',
            ['target_dir', 'view', 'symbol']
        ) as path_parts,
        try_cast(content as json) as doc
    from source

),

renamed as (

    select
        source_file,
        nullif(path_parts.target_dir, '') as target_dir,
        nullif(path_parts.view, '') as view,
        nullif(path_parts.symbol, '') as symbol,
        doc is not null as is_valid_json,
        coalesce(json_type(doc) = 'OBJECT', false) as is_object,
        doc ->> '$.target' as target,
        json_type(doc, '$.target') as target_json_type,
        try_cast(doc ->> '$.auc' as double) as auc,
        json_type(doc, '$.auc') as auc_json_type,
        try_cast(doc ->> '$.max_score' as double) as max_score,
        try_cast(doc ->> '$.n_models_available' as integer) as n_models_available,
        try_cast(doc ->> '$.n_models_successful' as integer) as n_models_successful,
        try_cast(doc ->> '$.boruta_used' as boolean) as boruta_used,
        upper(trim(doc ->> '$.score_tier')) as score_tier,
        upper(trim(doc ->> '$.confidence')) as confidence,
        doc ->> '$.low_confidence_reason' as low_confidence_reason
    from parsed

)

select * from renamed
