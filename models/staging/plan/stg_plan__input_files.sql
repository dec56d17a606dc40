-- One row per raw file a build reads: the JSON and parquet files under the run directory's
-- targets/*/reproducibility, globals/run_context.json and globals/target_predictability_rankings.csv (what the
-- foxml sources read), the ready routing_candidates file when one is given, and the routing policy file, with the
-- SHA-256 of each file's bytes. The policy is an input like the others: its row gives the plan's config_hash (the
-- bytes this build read, not the file as it is at export time), and a policy edited after the build makes
-- `trainplan train` refuse the plan as stale. Paths are relative to the run directory (the file name for the
-- candidates and policy files), so a moved run keeps its fingerprint. It globs the run directory itself
-- (not the build's listing, stg_foxml__run_files, whose files the staging models read): `trainplan train` re-runs
-- this compiled SQL to see files added since the build, so it must not hold a list frozen at build time.
-- The reproducibility folders are walked once: every file under them, kept by name (*.json, *.parquet) before
-- it is hashed, where one glob per extension would walk the tree twice (M, 120,000 files: 2 s a walk). A file of
-- another kind there (FoxML writes none) is still read by read_blob, not hashed and not listed.
{%- set run_dir = foxml_run_dir() -%}
{%- set candidates_path = candidates_file() -%}
{%- set policy_file = policy_path() -%}
{%- set run_globs = [
    run_dir ~ '/targets/*/reproducibility/**',
    run_dir ~ '/globals/run_context.json',
    run_dir ~ '/globals/target_predictability_rankings.csv',
] %}
{%- set no_files = values_relation([('input_kind', 'varchar'), ('path', 'varchar'), ('sha256', 'varchar')], []) %}

with

run_files as (

    {% if run_dir %}
        select
            'run' as input_kind,
            replace(filename, {{ sql_string(run_dir ~ '/') }}, '') as path,
            sha256(content) as sha256
        from read_blob({{ sql_string_list(run_globs) }})
        where
            not starts_with(filename, {{ sql_string(run_dir ~ '/targets/') }})
            or regexp_matches(filename, '\.(?:json|parquet)$')
    {% else %}
        {{ no_files }}
    {% endif %}

),

candidates_files as (

    {% if candidates_path %}
        select
            'candidates' as input_kind,
            {{ sql_string(candidates_path.split('/')[-1]) }} as path,
            sha256(content) as sha256
        from read_blob({{ sql_string(candidates_path) }})
    {% else %}
        {{ no_files }}
    {% endif %}

),

policy_files as (

    select
        'policy' as input_kind,
        parse_filename(filename) as path,
        sha256(content) as sha256
    from read_blob({{ sql_string(policy_file) }})

),

final as (

    select * from run_files
    union all
    select * from candidates_files
    union all
    select * from policy_files

)

select * from final
