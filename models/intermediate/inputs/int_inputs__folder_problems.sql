-- Problems only a folder shows: a symbol with folders but no cohort metrics in any of them (stage= variants
-- included), and a target folder in which no cohort metrics file was readable. Found from the paths of the
-- files under targets/ (an empty folder holds nothing to lose and is not listed).
with

run_files as (

    select * from {{ ref('stg_foxml__run_files') }}

),

accepted as (

    select * from {{ ref('int_cohorts__accepted') }}

),

symbol_folders as (

    select
        target_dir,
        symbol,
        min(symbol_folder) as symbol_folder,
        count(*) as n_files
    from run_files
    where symbol_folder is not null
    group by target_dir, symbol
    having not bool_or(is_cohort_metrics)

),

target_folders as (

    select
        target_folder,
        min(target_dir) as target_dir,
        count(*) as n_files
    from run_files
    where target_folder is not null
    group by target_folder

),

unreadable_targets as (

    select target_folders.*
    from target_folders
    where not exists (
            select 1 from accepted
            where accepted.target_dir = target_folders.target_dir
        )

),

problems as (

    select
        symbol_folder || '/' as source_file,
        null::bigint as source_row,
        'symbol folder' as artifact,
        target_dir as target,
        symbol,
        'symbol folder without cohorts (' || n_files || ' other files)' as problem,
        'cohort=<id>/metrics.json or metrics.parquet under the symbol folder' as expected
    from symbol_folders
    union all
    select
        target_folder || '/' as source_file,
        null::bigint as source_row,
        'target folder' as artifact,
        target_dir as target,
        null as symbol,
        'target folder with nothing readable: no cohort metrics file was accepted (' || n_files || ' files)' as problem,
        'at least one readable reproducibility/.../cohort=<id>/metrics.json or metrics.parquet' as expected
    from unreadable_targets

)

select * from problems
