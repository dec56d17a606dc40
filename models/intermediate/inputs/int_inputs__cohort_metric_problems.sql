{#- The checks of a cohort metrics file (metrics.json or metrics.parquet): when, problem, expected (SQL text). -#}
{%- set task_types = "'REGRESSION, BINARY_CLASSIFICATION or MULTICLASS_CLASSIFICATION (any case)'" -%}
{%- set sample_keys = "'a non-negative number in the first of n_effective, n_effective_cs, n_samples, sample_size'" -%}
{%- set shape_checks = raw_text_checks(
    "'a JSON object with target, stage, auc and n_effective (docs/input-files.md, Cohort metrics)'", target='reported_target'
) + [
    {'when': "is_valid_utf8 and not is_valid_json",
     'target': 'target_dir',
     'problem': "case file_format when 'parquet' then 'not a readable parquet file ('"
         ~ " || coalesce(read_error, 'empty, truncated or not parquet') || ')'"
         ~ " else 'malformed JSON: the file does not parse' end",
     'expected': "'a JSON object (or one-row parquet) with target, stage, auc and n_effective (docs/input-files.md, Cohort metrics)'"},
    {'when': "is_valid_json and not is_object",
     'target': 'target_dir',
     'problem': "'not a JSON object'",
     'expected': "'a JSON object with target, stage, auc and n_effective (docs/input-files.md, Cohort metrics)'"},
] -%}
{%- set metric_checks = [
    {'when': "view is null",
     'problem': "'unrecognised cohort folder layout'",
     'expected': "'targets/<t>/reproducibility/[stage=<S>/]CROSS_SECTIONAL|SYMBOL_SPECIFIC/symbol=<SYM>/[universe=<sig>/]cohort=<id>/ (docs/input-files.md, Layout)'"},
    {'when': "view = 'SYMBOL_SPECIFIC' and symbol is null",
     'problem': "'stray cohort folder under SYMBOL_SPECIFIC without a symbol= folder: it belongs to no symbol'",
     'expected': "'SYMBOL_SPECIFIC/symbol=<SYM>/cohort=<id>/ (docs/input-files.md, Layout); not guessed'"},
    {'when': "view = 'CROSS_SECTIONAL' and symbol is not null",
     'problem': "'symbol= folder under CROSS_SECTIONAL'",
     'expected': "'symbol cohorts under SYMBOL_SPECIFIC/symbol=<SYM>/'"},
    {'when': "is_object and coalesce(target_json_type, 'NULL') = 'NULL'",
     'problem': "'missing key target'",
     'expected': "'the target name as a string'"},
    {'when': "target_json_type not in ('VARCHAR', 'NULL')",
     'problem': "'key target is ' || target_json_type || ', not a string'",
     'expected': "'the target name as a string'"},
    {'when': "target_json_type = 'VARCHAR' and replace(replace(target, '/', '_'), chr(92), '_') != target_dir",
     'problem': "'key target ''' || target || ''' does not match its folder targets/' || target_dir || '/'",
     'expected': "'the folder to be the target with / and ' || chr(92) || ' replaced by _'"},
    {'when': "is_object and stage is null",
     'problem': "'missing key stage'",
     'expected': "'TARGET_RANKING or FEATURE_SELECTION (any case)'"},
    unknown_enum_check('metrics', 'stage', "'TARGET_RANKING or FEATURE_SELECTION (any case)'"),
    {'when': "path_stage is not null and stage is not null and stage != path_stage",
     'problem': "'stage ''' || stage || ''' differs from its stage=' || path_stage || ' folder'",
     'expected': "'the stage of the stage= folder'"},
    {'when': "is_object and coalesce(score_json_type, 'NULL') = 'NULL'",
     'problem': "'missing key auc'",
     'expected': "'the cohort score as a finite number'"},
    {'when': "score_json_type not in ('NULL', 'DOUBLE', 'BIGINT', 'UBIGINT')",
     'problem': "'key auc is ' || score_json_type || ' ' || score_text || ', not a number'",
     'expected': "'the cohort score as a finite number'"},
    {'when': "score_json_type in ('DOUBLE', 'BIGINT', 'UBIGINT') and not " ~ tp_is_finite('score'),
     'problem': "'key auc is ' || score_text",
     'expected': "'the cohort score as a finite number (not NaN or infinite)'"},
    {'when': "is_object and sample_size_key is null",
     'problem': "'no sample size: none of n_effective, n_effective_cs, n_samples, sample_size'",
     'expected': sample_keys},
    {'when': "sample_size_key is not null and not coalesce(" ~ tp_is_finite('cohort_sample_size') ~ " and cohort_sample_size >= 0, false)",
     'problem': "'key ' || sample_size_key || ' is not a non-negative finite number'",
     'expected': sample_keys},
    {'when': "stage = 'TARGET_RANKING' and task_type is null",
     'problem': "'missing key task_type in a target-ranking cohort'",
     'expected': task_types},
    unknown_enum_check('metrics', 'task_type', task_types),
    unknown_value_check(
        'metrics', 'leakage_flag', is_known_leakage_flag('metrics.leakage_flag'),
        "'OK, SUSPICIOUS, HIGH_SCORE, INCONSISTENT, INSUFFICIENT_FEATURES or LEAKAGE_DETECTED (any case)'"
    ),
    {'when': "timestamp_text is not null and recorded_at is null",
     'problem': "'key timestamp ''' || timestamp_text || ''' is not a time'",
     'expected': "'an ISO date-time'"},
    {'when': "is_object and recency is null",
     'problem': "'no time to order the cohort by: neither metadata.json created_at nor metrics timestamp'",
     'expected': "'metadata.json created_at or metrics timestamp as an ISO date-time'"},
] -%}
{%- set twin_checks = [
    {'when': "true",
     'problem': "'metrics.json and metrics.parquet of the cohort disagree (target, stage, auc, sample size or timestamp)'",
     'expected': "'the one-row parquet to mirror metrics.json (docs/input-files.md, Cohort metrics); neither is trusted'"},
] -%}

-- The problems of cohort metrics files (metrics.json, metrics.parquet): bytes that are not UTF-8 or not strict
-- JSON (a duplicated key, NaN, Infinity), a file that does not parse, a path outside
-- the layout, a missing, wrong-typed or unknown key, a NaN or infinite score, no sample size or time; and a
-- cohort whose metrics.json and metrics.parquet disagree (both files are listed).
with

cohort_metrics as (

    select * from {{ ref('int_cohorts__metrics') }}

),

enum_values as (

    select * from {{ ref('accepted_enum_values') }}

),

flag_statuses as (

    select * from {{ ref('leakage_flag_statuses') }}

),

metrics as (

    select
        *,
        'metrics.' || file_format as artifact,
        coalesce(target, target_dir) as reported_target
    from cohort_metrics

),

twin_mismatches as (

    select
        json_side.source_file as json_file,
        parquet_side.source_file as parquet_file,
        coalesce(json_side.target, json_side.target_dir) as target,
        json_side.symbol
    from cohort_metrics as json_side
    inner join cohort_metrics as parquet_side
        on
            json_side.cohort_folder = parquet_side.cohort_folder
            and json_side.file_format = 'json'
            and parquet_side.file_format = 'parquet'
    where
        json_side.is_object
        and parquet_side.is_object
        and (
            json_side.target is distinct from parquet_side.target
            or json_side.stage is distinct from parquet_side.stage
            or json_side.score is distinct from parquet_side.score
            or json_side.cohort_sample_size is distinct from parquet_side.cohort_sample_size
            or json_side.recorded_at is distinct from parquet_side.recorded_at
        )

),

twin_files as (

    select
        json_file as source_file,
        'metrics.json' as artifact,
        target,
        symbol
    from twin_mismatches
    union all
    select
        parquet_file as source_file,
        'metrics.parquet' as artifact,
        target,
        symbol
    from twin_mismatches

),

problems as (

    {{ checks_as_problems('metrics', shape_checks, artifact='artifact') }}
    union all
    {{ checks_as_problems('metrics', metric_checks, artifact='artifact', target='reported_target', guard='is_valid_json') }}
    union all
    {{ checks_as_problems('twin_files', twin_checks, artifact='artifact') }}

)

select * from problems
