-- One row per target of globals/target_predictability_rankings.csv: FoxML's cross-sectional
-- target-ranking summary, whose leakage_flag is per target.
with

source as (

    {{ rows_as_json(input_source('foxml', 'target_rankings_csv'), foxml_run_dir() ~ '/globals/target_predictability_rankings.csv') }}

),

renamed as (

    select
        source_file,
        source_row,
        nullif(trim(doc ->> '$.target'), '') as target,
        try_cast(doc ->> '$.rank' as integer) as ranking,
        upper(nullif(trim(doc ->> '$.task_type'), '')) as task_type,
        try_cast(doc ->> '$.auc' as double) as auc,
        try_cast(doc ->> '$.composite_score' as double) as composite_score,
        doc ->> '$.leakage_flag' is not null as has_leakage_flag_column,
        upper(nullif(trim(doc ->> '$.leakage_flag'), '')) as leakage_flag,
        nullif(trim(doc ->> '$.recommendation'), '') as recommendation
    from source

)

select * from renamed
