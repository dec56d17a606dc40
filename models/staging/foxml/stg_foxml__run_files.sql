-- Every file in the run's target folders (targets/<target>/…), with the scope folder it sits in: the one listing
-- of the run directory per build. The staging models of files under targets/ read the listed files (macro
-- listed_input) instead of globbing again, stg_plan__input_files hashes them, and the folder-level checks (a symbol
-- folder without cohorts, a target folder with nothing readable) read it. The source lists with tp_run_files
-- (trainplan.warehouse.run_listing: a linked target folder is followed; below it a link to a file is listed and a
-- link to a folder in reproducibility/ is an error naming it); no run directory (a ready candidates file) lists no
-- file.
{%- do foxml_run_dir() %}  {#- a run_dir var the listing cannot use (foxml_run_dir's rules) fails the compile #}

with

source as (

    select * from {{ input_source('foxml', 'run_files') }}

),

parsed as (

    select
        file as source_file,
        regexp_extract(file, '/targets/([^/]+)/', 1) as target_dir,
        regexp_extract(file, '^(.*/targets/[^/]+)/', 1) as target_folder,
        regexp_extract(
            file, '^(.*/targets/[^/]+/reproducibility/(?:stage=[^/]+/)?SYMBOL_SPECIFIC/symbol=[^/]+)/', 1
        ) as symbol_folder,
        regexp_extract(file, '/SYMBOL_SPECIFIC/symbol=([^/]+)/', 1) as symbol,
        regexp_matches(file, '/cohort=[^/]+/metrics\.(json|parquet)$') as is_cohort_metrics
    from source

),

renamed as (

    select
        source_file,
        nullif(target_dir, '') as target_dir,
        nullif(target_folder, '') as target_folder,
        nullif(symbol_folder, '') as symbol_folder,
        nullif(symbol, '') as symbol,
        is_cohort_metrics
    from parsed

)

select * from renamed
