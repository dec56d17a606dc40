{%- set file_checks = [
    {'when': "not is_valid_utf8",
     'problem': "'not valid UTF-8: the bytes cannot be read as text'",
     'expected': "'a UTF-8 CSV file with a header row (docs/input-files.md, Rankings CSV)'"},
    {'when': "is_valid_utf8 and not is_header_valid",
     'problem': "'the header row does not parse as CSV, or names a column twice or not at all'",
     'expected': "'a header row of distinct column names: the columns of docs/input-files.md, Rankings CSV, leakage_flag among them'"},
] -%}
{%- set line_checks = [
    {'when': "not row_parses",
     'problem': "'row ' || source_row || ' does not parse as CSV (an unterminated quote?)'",
     'expected': "'comma-separated fields; a quoted field closes its quote on the same line and doubles a quote inside'"},
    {'when': "row_parses and n_fields != n_header_fields",
     'problem': "'row ' || source_row || ' has ' || n_fields || ' fields, the header ' || n_header_fields",
     'expected': "'one field per header column'"},
] -%}
{%- set checks = [
    {'when': "target is null or not has_leakage_flag_column"
        ~ " or (leakage_flag is not null and not " ~ is_known_leakage_flag('rankings.leakage_flag') ~ ")",
     'problem': "case"
         ~ " when target is null then 'row ' || source_row || ' has no target'"
         ~ " when not has_leakage_flag_column then 'no leakage_flag column'"
         ~ " else 'unknown leakage_flag ''' || leakage_flag || ''' for target ' || target end",
     'expected': "case"
         ~ " when target is null then 'a target name in every row'"
         ~ " when not has_leakage_flag_column then 'the columns of docs/input-files.md, Rankings CSV, leakage_flag among them'"
         ~ " else 'OK, SUSPICIOUS, HIGH_SCORE, INCONSISTENT, INSUFFICIENT_FEATURES or LEAKAGE_DETECTED (any case)' end"},
] -%}

-- The problems of the rankings CSV (globals/target_predictability_rankings.csv): the whole file when its bytes are
-- not UTF-8 or its header row is not readable (source_row null); else one per row at most — a line that does not
-- parse as CSV or has the wrong number of fields (target: the line's naive target column), a row without a target,
-- a file without a leakage_flag column, an unknown leakage_flag.
with

rankings as (

    select * from {{ ref('stg_foxml__target_rankings') }}

),

flag_statuses as (

    select * from {{ ref('leakage_flag_statuses') }}

),

problems as (

    {{ checks_as_problems(
        'rankings', file_checks, artifact="'target_predictability_rankings.csv'", target='null', symbol='null',
        distinct=true
    ) }}
    union all
    {{ checks_as_problems(
        'rankings', line_checks, artifact="'target_predictability_rankings.csv'", target='line_target',
        symbol='null', source_row='source_row', guard='is_header_valid'
    ) }}
    union all
    {{ checks_as_problems(
        'rankings', checks, artifact="'target_predictability_rankings.csv'", symbol='null', source_row='source_row',
        guard='is_row_readable'
    ) }}

)

select * from problems
