-- One row per row of a ready routing_candidates.parquet (FoxML's format), keys cast to trainplan's types. Its
-- all-null columns are null-typed in the file, and model_status exists only when a symbol row does, so each
-- row is read as a JSON document and every key is cast explicitly.
with

source as (

    {{ rows_as_json(input_source('candidates', 'routing_candidates_parquet'), candidates_file()) }}

),

renamed as (

    select
        source_file,
        source_row,
        doc ->> '$.target' as target,
        json_type(doc, '$.target') as target_json_type,
        doc ->> '$.symbol' as symbol,
        upper(trim(doc ->> '$.mode')) as source_mode,
        try_cast(doc ->> '$.score' as double) as score,
        json_type(doc, '$.score') as score_json_type,
        doc ->> '$.score' as score_text,
        try_cast(doc ->> '$.score_ci_low' as double) as score_ci_low,
        try_cast(doc ->> '$.score_ci_high' as double) as score_ci_high,
        upper(trim(doc ->> '$.stability')) as stability,
        try_cast(doc ->> '$.stability_metrics.mean_overlap' as double) as stability_mean_overlap,
        try_cast(doc ->> '$.stability_metrics.std_overlap' as double) as stability_std_overlap,
        try_cast(doc ->> '$.stability_metrics.mean_tau' as double) as stability_mean_tau,
        try_cast(doc ->> '$.stability_metrics.std_tau' as double) as stability_std_tau,
        try_cast(doc ->> '$.stability_metrics.n_snapshots' as double)::integer as stability_n_snapshots,
        try_cast(doc ->> '$.stability_metrics.n_comparisons' as double)::integer as stability_n_comparisons,
        try_cast(doc ->> '$.sample_size' as double) as sample_size,
        json_type(doc, '$.sample_size') as sample_size_json_type,
        upper(trim(doc ->> '$.leakage_status')) as leakage_status,
        doc ->> '$.feature_set_id' as feature_set_id,
        list_filter(
            coalesce(try_cast(doc -> '$.failed_model_families' as varchar[]), []::varchar[]),
            family -> family is not null
        ) as failed_model_families,
        upper(trim(doc ->> '$.model_status')) as model_status,
        upper(trim(doc ->> '$.task_type')) as task_type,
        doc ->> '$.metric_name' as metric_name,
        try_cast(doc ->> '$.timestamp' as timestamp) as recorded_at,
        doc ->> '$.git_commit' as git_commit
    from source

)

select * from renamed
