{%- set checks = [
    {'when': "target is null or not has_leakage_flag_column"
        ~ " or (leakage_flag is not null and not " ~ is_known_leakage_flag('rankings.leakage_flag') ~ ")",
     'problem': "case"
         ~ " when target is null then 'row ' || source_row || ' has no target'"
         ~ " when not has_leakage_flag_column then 'no leakage_flag column'"
         ~ " else 'unknown leakage_flag ''' || leakage_flag || ''' for target ' || target end",
     'expected': "case"
         ~ " when target is null then 'a target name in every row'"
         ~ " when not has_leakage_flag_column then 'the columns of reference §1.5, leakage_flag among them'"
         ~ " else 'OK, SUSPICIOUS, HIGH_SCORE, INCONSISTENT, INSUFFICIENT_FEATURES or LEAKAGE_DETECTED (any case)' end"},
] -%}

-- The problems of the rankings CSV (globals/target_predictability_rankings.csv), one per row at most: a row
-- without a target, a file without a leakage_flag column, an unknown leakage_flag.
with

rankings as (

    select * from {{ ref('stg_foxml__target_rankings') }}

),

flag_statuses as (

    select * from {{ ref('leakage_flag_statuses') }}

),

problems as (

    {{ checks_as_problems(
        'rankings', checks, artifact="'target_predictability_rankings.csv'", symbol='null', source_row='source_row'
    ) }}

)

select * from problems
