-- One row per target_confidence.json: the feature-selection confidence of a scope (cross-sectional or symbol).
with

source as (

    {{ json_documents(
        listed_input('foxml', 'target_confidences_json'),
        foxml_scope_path_regex() ~ " || '(?:universe=[^/]+/)?target_confidence\\.json$'",
        ['target_dir', 'view', 'symbol']
    ) }}

),

renamed as (

    select
        * exclude (doc),
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
    from source

)

select * from renamed
