{%- set checks = json_shape_checks(
    "'a JSON object with target, method, created_at and features (docs/input-files.md, Importance snapshots)'"
) + [
    {'when': "is_object and (snapshot_layout is null or target is null or created_at is null or features is null)",
     'problem': "case"
         ~ " when snapshot_layout is null then 'unrecognised snapshot path'"
         ~ " when target is null then 'missing key target'"
         ~ " when created_at is null then 'missing or unreadable key created_at'"
         ~ " else 'missing or unreadable key features' end",
     'expected': "case when snapshot_layout is null then"
         ~ " 'feature_importance_snapshots/replicate/<rk>/<sk>.json or feature_importance_snapshots/<target>/<method>/<run_id>.json'"
         ~ " else 'target, created_at (ISO date-time) and features (a list of names)' end"},
] -%}

-- The problems of feature-importance snapshots: a file that does not parse, a path outside both layouts, a
-- missing target, created_at or features list.
with

snapshots as (

    select * from {{ ref('stg_foxml__importance_snapshots') }}

),

problems as (

    {{ checks_as_problems(
        'snapshots', checks, artifact="'importance snapshot'", target='coalesce(target, target_dir)', symbol='null'
    ) }}

)

select * from problems
