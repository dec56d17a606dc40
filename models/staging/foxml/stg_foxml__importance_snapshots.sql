-- One row per feature-importance snapshot, hash layout (replicate/<rk>/<sk>.json) or legacy layout
-- (<target>/<method>/<run_id>.json, reference §1.4): scope keys, signatures and the ordered feature list.
with

source as (

    select * from {{ source('foxml', 'importance_snapshots_json') }}

),

parsed as (

    select
        filename as source_file,
        regexp_extract(filename, '/targets/([^/]+)/reproducibility/', 1) as target_dir,
        regexp_extract(
            filename,
            '/feature_importance_snapshots/(?:(replicate)/([^/]+)/([^/]+)|([^/]+)/([^/]+)/([^/]+))\.json$',
            ['replicate_dir', 'replicate_key', 'strict_key', 'legacy_target', 'legacy_method', 'legacy_run_id']
        ) as path_parts,
        try_cast(content as json) as doc
    from source

),

renamed as (

    select
        source_file,
        target_dir,
        case
            when path_parts.replicate_dir = 'replicate' then 'hash'
            when path_parts.legacy_method != '' then 'legacy'
        end as snapshot_layout,
        doc is not null as is_valid_json,
        coalesce(json_type(doc) = 'OBJECT', false) as is_object,
        doc ->> '$.target' as target,
        coalesce(doc ->> '$.method', nullif(path_parts.legacy_method, '')) as method,
        doc ->> '$.universe_sig' as universe_sig,
        coalesce(doc ->> '$.run_id', nullif(path_parts.legacy_run_id, '')) as snapshot_run_id,
        try_cast(doc ->> '$.created_at' as timestamp) as created_at,
        try_cast(doc -> '$.features' as varchar[]) as features,
        try_cast(doc -> '$.importances' as double[]) as importances,
        doc ->> '$.replicate_key' as replicate_key,
        doc ->> '$.strict_key' as strict_key,
        doc ->> '$.dataset_signature' as dataset_signature,
        doc ->> '$.split_signature' as split_signature,
        doc ->> '$.target_signature' as target_signature,
        doc ->> '$.feature_signature' as feature_signature,
        doc ->> '$.hparams_signature' as hparams_signature,
        doc ->> '$.routing_signature' as routing_signature,
        try_cast(doc ->> '$.train_seed' as bigint) as train_seed
    from parsed

)

select * from renamed
