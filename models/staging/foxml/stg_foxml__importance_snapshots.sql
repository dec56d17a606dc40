-- One row per feature-importance snapshot, hash layout (replicate/<rk>/<sk>.json) or legacy layout
-- (<target>/<method>/<run_id>.json): scope keys, signatures and the ordered feature list.
-- The bytes are checked as UTF-8 and as strict JSON first (json_strictness_problem, macros/foxml_inputs.sql).
-- Each file is parsed once: json_transform reads every key in one pass (a value of the wrong type becomes null,
-- as try_cast would), where one extraction per key would parse a 200-feature document twenty times.
{%- set snapshot_keys = {
    'target': 'varchar',
    'method': 'varchar',
    'universe_sig': 'varchar',
    'run_id': 'varchar',
    'created_at': 'varchar',
    'features': 'varchar[]',
    'importances': 'double[]',
    'replicate_key': 'varchar',
    'strict_key': 'varchar',
    'dataset_signature': 'varchar',
    'split_signature': 'varchar',
    'target_signature': 'varchar',
    'feature_signature': 'varchar',
    'hparams_signature': 'varchar',
    'routing_signature': 'varchar',
    'train_seed': 'varchar',
} %}
with

source as (

    select * from {{ listed_input('foxml', 'importance_snapshots_json') }}

),

decoded as (

    select
        filename,
        {{ utf8_text('content') }} as content
    from source

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
        content is not null as is_valid_utf8,
        coalesce(json_valid(content), false) as is_valid_json,
        case when json_valid(content) then json_type(content) = 'OBJECT' else false end as is_object,
        case
            when json_valid(content) then {{ json_strictness_problem('content', 'content::json') }}
        end as strict_json_problem,
        case
            when json_valid(content) then json_transform(content, {{ sql_string(tojson(snapshot_keys)) }})
        end as doc
    from decoded

),

renamed as (

    select
        source_file,
        target_dir,
        case
            when path_parts.replicate_dir = 'replicate' then 'hash'
            when path_parts.legacy_method != '' then 'legacy'
        end as snapshot_layout,
        is_valid_utf8,
        is_valid_json,
        is_object,
        strict_json_problem,
        doc.target,
        coalesce(doc.method, nullif(path_parts.legacy_method, '')) as method,
        doc.universe_sig,
        coalesce(doc.run_id, nullif(path_parts.legacy_run_id, '')) as snapshot_run_id,
        try_cast(doc.created_at as timestamp) as created_at,
        doc.features,
        doc.importances,
        doc.replicate_key,
        doc.strict_key,
        doc.dataset_signature,
        doc.split_signature,
        doc.target_signature,
        doc.feature_signature,
        doc.hparams_signature,
        doc.routing_signature,
        try_cast(doc.train_seed as bigint) as train_seed
    from parsed

)

select * from renamed
