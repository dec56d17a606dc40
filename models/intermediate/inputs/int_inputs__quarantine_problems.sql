{%- set suspects_checks = json_shape_checks(
    "'a JSON object with ts, target, view, symbol and a suspects list (docs/input-files.md, Quarantine files)'"
) + [
    {'when': "is_object and (target is null or coalesce(suspects_json_type, '') != 'ARRAY')",
     'problem': "case when target is null then 'missing key target'"
         ~ " else 'key suspects is ' || coalesce(suspects_json_type, 'missing') || ', not a list' end",
     'expected': "'a target name and a suspects list'"},
] -%}
{%- set confirmed_checks = json_shape_checks(
    "'a JSON object with ts, target, view, symbol and confirmed_features (docs/input-files.md, Quarantine files)'"
) + [
    {'when': "is_object and (target is null or coalesce(confirmed_features_json_type, '') != 'ARRAY')",
     'problem': "case when target is null then 'missing key target'"
         ~ " else 'key confirmed_features is ' || coalesce(confirmed_features_json_type, 'missing') || ', not a list' end",
     'expected': "'a target name and a confirmed_features list of names'"},
] -%}

-- The problems of feature-quarantine files (suspects_<VIEW>_<SYM|ALL>.json, confirmed_quarantine.json): a file
-- that does not parse, a missing target, a list key that is not a list. Staging has a row per listed feature, so
-- each problem is kept once per file.
with

suspects as (

    select * from {{ ref('stg_foxml__quarantine_suspects') }}

),

confirmed as (

    select * from {{ ref('stg_foxml__confirmed_quarantines') }}

),

problems as (

    {{ checks_as_problems(
        'suspects', suspects_checks, artifact="'suspects.json'",
        target='coalesce(target, target_dir)', symbol='path_symbol', distinct=true
    ) }}
    union all
    {{ checks_as_problems(
        'confirmed', confirmed_checks, artifact="'confirmed_quarantine.json'",
        target='coalesce(target, target_dir)', symbol='path_symbol', distinct=true
    ) }}

)

select * from problems
