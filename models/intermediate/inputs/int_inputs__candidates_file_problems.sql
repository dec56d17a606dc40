{%- set task_types = "'REGRESSION, BINARY_CLASSIFICATION or MULTICLASS_CLASSIFICATION (any case)'" -%}
{%- set checks = [
    {'when': "target is null",
     'problem': "'missing target'",
     'expected': "'a target name in every row'"},
    {'when': "score is null or not " ~ tp_is_finite('score'),
     'problem': "'score is ' || coalesce(score_text, 'missing')",
     'expected': "'a finite number (the reference writes a row only when it found a score)'"},
    {'when': "sample_size_json_type not in ('NULL', 'DOUBLE', 'BIGINT', 'UBIGINT') or sample_size < 0",
     'problem': "'sample_size is not a non-negative number'",
     'expected': "'a non-negative whole number'"},
    unknown_enum_check('candidates', 'stability', "'STABLE, DRIFTING, DIVERGED or UNKNOWN (any case)'"),
    unknown_enum_check('candidates', 'leakage_status', "'SAFE, SUSPECT, BLOCKED or UNKNOWN (any case)'"),
    unknown_enum_check(
        'candidates', 'source_mode', "'CROSS_SECTIONAL, SYMBOL_SPECIFIC or SYMBOL'", enum_name='candidate_mode', label='mode'
    ),
    unknown_enum_check('candidates', 'model_status', "'OK or FAILED'"),
    unknown_enum_check('candidates', 'task_type', task_types),
    {'when': "n_same_pair > 1",
     'problem': "n_same_pair || ' rows for the same (target, symbol)'",
     'expected': "'one row per (target, symbol)'"},
] -%}

-- The problems of the rows of a ready routing_candidates.parquet (refresh --candidates): a missing target, a score
-- that is not a finite number, a negative or non-numeric sample size, an unknown enum value, a repeated pair.
with

file_candidates as (

    select * from {{ ref('stg_candidates__routing_candidates') }}

),

enum_values as (

    select * from {{ ref('accepted_enum_values') }}

),

candidates as (

    select
        *,
        count(*) over (partition by target, symbol) as n_same_pair
    from file_candidates

),

problems as (

    {{ checks_as_problems(
        'candidates', checks, artifact="'routing_candidates.parquet'", source_row='source_row'
    ) }}

)

select * from problems
