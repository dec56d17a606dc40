{{ config(materialized="table") }}

{#- The checks of cohort metrics files and candidate rows: when (a condition), problem and expected (SQL text). -#}
{%- set task_types = "'REGRESSION, BINARY_CLASSIFICATION or MULTICLASS_CLASSIFICATION (any case)'" -%}
{%- set sample_keys = "'a non-negative number in the first of n_effective, n_effective_cs, n_samples, sample_size'" -%}
{%- set metric_checks = [
    {'when': "view is null",
     'problem': "'unrecognised cohort folder layout'",
     'expected': "'targets/<t>/reproducibility/[stage=<S>/]CROSS_SECTIONAL|SYMBOL_SPECIFIC/symbol=<SYM>/[universe=<sig>/]cohort=<id>/ (reference §1.1, §1.7)'"},
    {'when': "view = 'SYMBOL_SPECIFIC' and symbol is null",
     'problem': "'stray cohort folder under SYMBOL_SPECIFIC without a symbol= folder: it belongs to no symbol'",
     'expected': "'SYMBOL_SPECIFIC/symbol=<SYM>/cohort=<id>/ (reference §1.6b #6); not guessed'"},
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
    {'when': "stage is not null and not is_known_stage",
     'problem': "'unknown stage ''' || stage || ''''",
     'expected': "'TARGET_RANKING or FEATURE_SELECTION (any case)'"},
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
    {'when': "task_type is not null and not is_known_task_type",
     'problem': "'unknown task_type ''' || task_type || ''''",
     'expected': task_types},
    {'when': "leakage_flag is not null and not is_known_leakage_flag",
     'problem': "'unknown leakage_flag ''' || leakage_flag || ''''",
     'expected': "'OK, SUSPICIOUS, HIGH_SCORE, INCONSISTENT, INSUFFICIENT_FEATURES or LEAKAGE_DETECTED (any case)'"},
    {'when': "timestamp_text is not null and recorded_at is null",
     'problem': "'key timestamp ''' || timestamp_text || ''' is not a time'",
     'expected': "'an ISO date-time'"},
    {'when': "is_object and recency is null",
     'problem': "'no time to order the cohort by: neither metadata.json created_at nor metrics timestamp'",
     'expected': "'metadata.json created_at or metrics timestamp as an ISO date-time'"},
] -%}
{%- set candidate_checks = [
    {'when': "target is null",
     'problem': "'missing target'",
     'expected': "'a target name in every row'"},
    {'when': "score is null or not " ~ tp_is_finite('score'),
     'problem': "'score is ' || coalesce(score_text, 'missing')",
     'expected': "'a finite number (the reference writes a row only when it found a score)'"},
    {'when': "sample_size_json_type not in ('NULL', 'DOUBLE', 'BIGINT', 'UBIGINT') or sample_size < 0",
     'problem': "'sample_size is not a non-negative number'",
     'expected': "'a non-negative whole number'"},
    {'when': "stability is not null and not is_known_stability",
     'problem': "'unknown stability ''' || stability || ''''",
     'expected': "'STABLE, DRIFTING, DIVERGED or UNKNOWN (any case)'"},
    {'when': "leakage_status is not null and not is_known_leakage_status",
     'problem': "'unknown leakage_status ''' || leakage_status || ''''",
     'expected': "'SAFE, SUSPECT, BLOCKED or UNKNOWN (any case)'"},
    {'when': "source_mode is not null and not is_known_mode",
     'problem': "'unknown mode ''' || source_mode || ''''",
     'expected': "'CROSS_SECTIONAL, SYMBOL_SPECIFIC or SYMBOL'"},
    {'when': "model_status is not null and not is_known_model_status",
     'problem': "'unknown model_status ''' || model_status || ''''",
     'expected': "'OK or FAILED'"},
    {'when': "task_type is not null and not is_known_task_type",
     'problem': "'unknown task_type ''' || task_type || ''''",
     'expected': task_types},
    {'when': "n_same_pair > 1",
     'problem': "n_same_pair || ' rows for the same (target, symbol)'",
     'expected': "'one row per (target, symbol)'"},
] -%}


-- Every problem found in a raw file or row of the inputs: one row per (file [, row], problem), with what was
-- expected. The rules live here only; models that use the inputs leave out every file (or row) listed here.
with

cohort_metrics as (

    select * from {{ ref('int_cohorts__metrics') }}

),

cohort_metadata as (

    select * from {{ ref('stg_foxml__cohort_metadata') }}

),

confidences as (

    select * from {{ ref('stg_foxml__target_confidences') }}

),

suspects as (

    select * from {{ ref('stg_foxml__quarantine_suspects') }}

),

confirmed as (

    select * from {{ ref('stg_foxml__confirmed_quarantines') }}

),

rankings as (

    select * from {{ ref('stg_foxml__target_rankings') }}

),

run_contexts as (

    select * from {{ ref('stg_foxml__run_contexts') }}

),

snapshots as (

    select * from {{ ref('stg_foxml__importance_snapshots') }}

),

file_candidates as (

    select * from {{ ref('stg_candidates__routing_candidates') }}

),

enum_values as (

    select * from {{ ref('accepted_enum_values') }}

),

flag_statuses as (

    select * from {{ ref('leakage_flag_statuses') }}

),

metrics_checked as (

    select
        cohort_metrics.*,
        'metrics.' || cohort_metrics.file_format as artifact,
        coalesce(cohort_metrics.target, cohort_metrics.target_dir) as reported_target,
        stages.enum_value is not null as is_known_stage,
        task_types.enum_value is not null as is_known_task_type,
        flags.leakage_flag is not null as is_known_leakage_flag
    from cohort_metrics
    left join enum_values as stages
        on stages.enum_name = 'stage' and cohort_metrics.stage = stages.enum_value
    left join enum_values as task_types
        on task_types.enum_name = 'task_type' and cohort_metrics.task_type = task_types.enum_value
    left join flag_statuses as flags
        on flags.evidence = 'leakage_flag' and cohort_metrics.leakage_flag = flags.leakage_flag

),

metrics_problems as (

    select
        source_file,
        null::bigint as source_row,
        artifact,
        target_dir as target,
        symbol,
        case file_format
            when 'parquet' then 'not a readable parquet file (empty, truncated or not parquet)'
            else 'malformed JSON: the file does not parse'
        end as problem,
        'a JSON object (or one-row parquet) with target, stage, auc and n_effective (reference §1.3a)' as expected
    from metrics_checked
    where not is_valid_json
    union all
    select
        source_file,
        null::bigint as source_row,
        artifact,
        target_dir as target,
        symbol,
        'not a JSON object' as problem,
        'a JSON object with target, stage, auc and n_effective (reference §1.3a)' as expected
    from metrics_checked
    where is_valid_json and not is_object
    {%- for check in metric_checks %}
        union all
        select
            source_file,
            null::bigint as source_row,
            artifact,
            reported_target as target,
            symbol,
            {{ check.problem }} as problem,
            {{ check.expected }} as expected
        from metrics_checked
        where is_valid_json and ({{ check.when }})
    {%- endfor %}

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

twin_problems as (

    select
        json_file as source_file,
        null::bigint as source_row,
        'metrics.json' as artifact,
        target,
        symbol,
        'metrics.json and metrics.parquet of the cohort disagree (target, stage, auc, sample size or timestamp)'
            as problem,
        'the one-row parquet to mirror metrics.json (reference §1.3a); neither is trusted' as expected
    from twin_mismatches
    union all
    select
        parquet_file as source_file,
        null::bigint as source_row,
        'metrics.parquet' as artifact,
        target,
        symbol,
        'metrics.json and metrics.parquet of the cohort disagree (target, stage, auc, sample size or timestamp)'
            as problem,
        'the one-row parquet to mirror metrics.json (reference §1.3a); neither is trusted' as expected
    from twin_mismatches

),

metadata_problems as (

    {{ json_shape_problems(
        'cohort_metadata', 'metadata.json', 'a JSON object with cohort_id, stage, target and created_at (reference §1.3b)'
    ) }}
    union all
    select
        source_file,
        null::bigint as source_row,
        'metadata.json' as artifact,
        target,
        null as symbol,
        'key created_at ''' || created_at_text || ''' is not a time' as problem,
        'an ISO date-time' as expected
    from cohort_metadata
    where created_at_text is not null and created_at is null
    union all
    select
        cohort_metadata.source_file,
        null::bigint as source_row,
        'metadata.json' as artifact,
        cohort_metadata.target,
        null as symbol,
        'cohort folder has metadata.json but no metrics.json or metrics.parquet' as problem,
        'metrics.json or metrics.parquet beside metadata.json (reference §1.3a)' as expected
    from cohort_metadata
    where not exists (
            select 1 from cohort_metrics
            where cohort_metrics.cohort_folder = cohort_metadata.cohort_folder
        )

),

confidence_problems as (

    {{ json_shape_problems(
        'confidences', 'target_confidence.json', 'a JSON object with target and auc (reference §1.3d)',
        target='coalesce(target, target_dir)', symbol='symbol'
    ) }}
    union all
    select
        source_file,
        null::bigint as source_row,
        'target_confidence.json' as artifact,
        coalesce(target, target_dir) as target,
        symbol,
        'key auc is ' || auc_json_type || ', not a finite number' as problem,
        'a finite number' as expected
    from confidences
    where
        auc_json_type is not null and auc_json_type != 'NULL'
        and not coalesce({{ tp_is_finite('auc') }} and auc_json_type in ('DOUBLE', 'BIGINT', 'UBIGINT'), false)

),

quarantine_problems as (

    {{ json_shape_problems(
        'suspects', 'suspects.json', 'a JSON object with ts, target, view, symbol and a suspects list (reference §1.5)',
        target='coalesce(target, target_dir)', symbol='path_symbol'
    ) }}
    union all
    select distinct
        source_file,
        null::bigint as source_row,
        'suspects.json' as artifact,
        coalesce(target, target_dir) as target,
        path_symbol as symbol,
        case
            when target is null then 'missing key target'
            else 'key suspects is ' || coalesce(suspects_json_type, 'missing') || ', not a list'
        end as problem,
        'a target name and a suspects list' as expected
    from suspects
    where is_object and (target is null or coalesce(suspects_json_type, '') != 'ARRAY')
    union all
    {{ json_shape_problems(
        'confirmed', 'confirmed_quarantine.json',
        'a JSON object with ts, target, view, symbol and confirmed_features (reference §1.5)',
        target='coalesce(target, target_dir)', symbol='path_symbol'
    ) }}
    union all
    select distinct
        source_file,
        null::bigint as source_row,
        'confirmed_quarantine.json' as artifact,
        coalesce(target, target_dir) as target,
        path_symbol as symbol,
        case
            when target is null then 'missing key target'
            else 'key confirmed_features is ' || coalesce(confirmed_features_json_type, 'missing') || ', not a list'
        end as problem,
        'a target name and a confirmed_features list of names' as expected
    from confirmed
    where is_object and (target is null or coalesce(confirmed_features_json_type, '') != 'ARRAY')

),

ranking_problems as (

    select
        rankings.source_file,
        rankings.source_row,
        'target_predictability_rankings.csv' as artifact,
        rankings.target,
        null as symbol,
        case
            when rankings.target is null then 'row ' || rankings.source_row || ' has no target'
            when not rankings.has_leakage_flag_column then 'no leakage_flag column'
            else 'unknown leakage_flag ''' || rankings.leakage_flag || ''' for target ' || rankings.target
        end as problem,
        case
            when rankings.target is null then 'a target name in every row'
            when not rankings.has_leakage_flag_column then 'the columns of reference §1.5, leakage_flag among them'
            else 'OK, SUSPICIOUS, HIGH_SCORE, INCONSISTENT, INSUFFICIENT_FEATURES or LEAKAGE_DETECTED (any case)'
        end as expected
    from rankings
    left join flag_statuses
        on flag_statuses.evidence = 'leakage_flag' and rankings.leakage_flag = flag_statuses.leakage_flag
    where
        rankings.target is null
        or not rankings.has_leakage_flag_column
        or (rankings.leakage_flag is not null and flag_statuses.leakage_flag is null)

),

context_problems as (

    {{ json_shape_problems(
        'run_contexts', 'run_context.json', 'a JSON object with view, n_symbols and current_universe (reference §1.2)',
        target='null'
    ) }}

),

snapshot_problems as (

    {{ json_shape_problems(
        'snapshots', 'importance snapshot', 'a JSON object with target, method, created_at and features (reference §1.4)',
        target='coalesce(target, target_dir)'
    ) }}
    union all
    select
        source_file,
        null::bigint as source_row,
        'importance snapshot' as artifact,
        coalesce(target, target_dir) as target,
        null as symbol,
        case
            when snapshot_layout is null then 'unrecognised snapshot path'
            when target is null then 'missing key target'
            when created_at is null then 'missing or unreadable key created_at'
            else 'missing or unreadable key features'
        end as problem,
        case
            when snapshot_layout is null
                then 'feature_importance_snapshots/replicate/<rk>/<sk>.json or feature_importance_snapshots/<target>/<method>/<run_id>.json'
            else 'target, created_at (ISO date-time) and features (a list of names)'
        end as expected
    from snapshots
    where is_object and (snapshot_layout is null or target is null or created_at is null or features is null)

),

candidate_rows as (

    select
        file_candidates.*,
        count(*) over (partition by file_candidates.target, file_candidates.symbol) as n_same_pair,
        stabilities.enum_value is not null as is_known_stability,
        leakages.enum_value is not null as is_known_leakage_status,
        modes.enum_value is not null as is_known_mode,
        model_statuses.enum_value is not null as is_known_model_status,
        task_types.enum_value is not null as is_known_task_type
    from file_candidates
    left join enum_values as stabilities
        on stabilities.enum_name = 'stability' and file_candidates.stability = stabilities.enum_value
    left join enum_values as leakages
        on leakages.enum_name = 'leakage_status' and file_candidates.leakage_status = leakages.enum_value
    left join enum_values as modes
        on modes.enum_name = 'candidate_mode' and file_candidates.source_mode = modes.enum_value
    left join enum_values as model_statuses
        on model_statuses.enum_name = 'model_status' and file_candidates.model_status = model_statuses.enum_value
    left join enum_values as task_types
        on task_types.enum_name = 'task_type' and file_candidates.task_type = task_types.enum_value

),

candidate_problems as (

    {%- for check in candidate_checks %}
        {% if not loop.first %}union all{% endif %}
        select
            source_file,
            source_row,
            'routing_candidates.parquet' as artifact,
            target,
            symbol,
            {{ check.problem }} as problem,
            {{ check.expected }} as expected
        from candidate_rows
        where {{ check.when }}
    {%- endfor %}

),

problems as (

    select * from metrics_problems
    union all
    select * from twin_problems
    union all
    select * from metadata_problems
    union all
    select * from confidence_problems
    union all
    select * from quarantine_problems
    union all
    select * from ranking_problems
    union all
    select * from context_problems
    union all
    select * from snapshot_problems
    union all
    select * from candidate_problems

)

select * from problems
