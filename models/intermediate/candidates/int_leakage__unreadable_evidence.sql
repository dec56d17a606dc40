-- The fail-safe rule of leakage evidence (docs/decision-semantics.md, "Leakage", unreadable evidence): a file or
-- row that could carry a block — a cohort's metrics or metadata (its target-ranking leakage_flag), a quarantine
-- file, a row of the rankings CSV — and that the input checks rejected may have held the block, so every scope it
-- could concern is held: one row per (rejected file or row, scope it holds). The scope comes from the file's path:
--   - a cohort or quarantine file under CROSS_SECTIONAL holds the target's CS scope, one under
--     SYMBOL_SPECIFIC/symbol=<SYM>/ that symbol's scope, any other path every scope of its target folder
--     (hold_scope 'target'); a cohort file under stage=FEATURE_SELECTION holds nothing (no flag is read there);
--   - a rankings CSV row (its flag is per target, CS scope) holds the CS scope of the target it names — the
--     parsed target, else the line's naive target column — when that is a target folder of the run; a row tied to
--     no target folder, or a problem of the whole file (bytes not UTF-8, header unreadable), holds the CS scope of
--     every target (target_key null).
-- int_candidates__routing_candidates holds each candidate that a row covers to UNKNOWN leakage; the lane rule
-- leakage_unreadable (int_routing__lane_signals) then gives it no job.
with

problems as (

    select * from {{ ref('int_inputs__problems') }}

),

run_files as (

    select * from {{ ref('stg_foxml__run_files') }}

),

target_folders as (

    select distinct target_dir from run_files
    where target_dir is not null

),

evidence_problems as (

    select
        source_file,
        source_row,
        artifact,
        target,
        problem,
        {{ run_relative_path('source_file') }} || coalesce(' row ' || source_row, '') as evidence_file,
        regexp_extract(
            source_file,
            '/targets/([^/]+)/reproducibility/(?:stage=([^/]+)/)?(?:(CROSS_SECTIONAL)/|SYMBOL_SPECIFIC/(?:symbol=([^/]+)/)?)?',
            ['target_dir', 'stage_dir', 'cs_view', 'symbol']
        ) as path_parts
    from problems
    where artifact in (
            'metrics.json', 'metrics.parquet', 'metadata.json', 'suspects.json', 'confirmed_quarantine.json',
            'target_predictability_rankings.csv'
        )

),

file_holds as (

    select
        nullif(path_parts.target_dir, '') as target_key,
        case
            when path_parts.cs_view != '' then 'cross_sectional'
            when path_parts.symbol != '' then 'symbol'
            else 'target'
        end as hold_scope,
        case when path_parts.cs_view = '' then nullif(path_parts.symbol, '') end as symbol,
        source_file,
        source_row,
        evidence_file,
        problem
    from evidence_problems
    where
        artifact != 'target_predictability_rankings.csv'
        and upper(path_parts.stage_dir) is distinct from 'FEATURE_SELECTION'

),

ranking_holds as (

    select
        target_folders.target_dir as target_key,
        'cross_sectional' as hold_scope,
        null::varchar as symbol,
        evidence_problems.source_file,
        evidence_problems.source_row,
        evidence_problems.evidence_file,
        evidence_problems.problem
    from evidence_problems
    left join target_folders
        on
            evidence_problems.source_row is not null
            and replace(replace(evidence_problems.target, '/', '_'), chr(92), '_') = target_folders.target_dir
    where evidence_problems.artifact = 'target_predictability_rankings.csv'

),

holds as (

    select * from file_holds
    union all
    select * from ranking_holds

)

select * from holds
