{%- set checks = json_shape_checks("'a JSON object with target and auc (docs/input-files.md, Target confidence)'") + [
    {'when': "auc_json_type is not null and auc_json_type != 'NULL' and not coalesce("
        ~ tp_is_finite('auc') ~ " and auc_json_type in ('DOUBLE', 'BIGINT', 'UBIGINT'), false)",
     'problem': "'key auc is ' || auc_json_type || ', not a finite number'",
     'expected': "'a finite number'"},
] -%}

-- The problems of target_confidence.json files: a file that does not parse, an auc that is not a finite number.
with

confidences as (

    select * from {{ ref('stg_foxml__target_confidences') }}

),

problems as (

    {{ checks_as_problems('confidences', checks, artifact="'target_confidence.json'", target='coalesce(target, target_dir)') }}

)

select * from problems
