-- One row per raw file a build reads: the JSON and parquet files under the run directory's
-- targets/*/reproducibility, globals/run_context.json and globals/target_predictability_rankings.csv (what the
-- foxml sources read), the ready routing_candidates file when one is given, and the routing policy file, with the
-- SHA-256 of each file's bytes. The policy is an input like the others: its row gives the plan's config_hash (the
-- bytes this build read, not the file as it is at export time), and a policy edited after the build makes
-- `trainplan train` refuse the plan as stale. Paths are relative to the run directory (the file name for the
-- candidates and policy files), so a moved run keeps its fingerprint.
-- The files under targets/ come from the build's one listing of the run directory (stg_foxml__run_files, by
-- tp_run_files: `trainplan train` re-runs the compiled SQL of this model and of the models above it, so it sees
-- files added since the build), kept by place and name (targets/<target>/reproducibility/…/*.json or *.parquet).
-- They are hashed by tp_file_sha256 (trainplan.warehouse.file_hashes, registered on dbt's connection by the plugin in
-- profiles.yml), which reads each file in Python: for the run's many small files several times faster than
-- DuckDB's sha256 over read_blob, with the same digest (docs/performance.md). The two globals files and the
-- candidates and policy files are hashed by DuckDB.
{%- set run_dir = foxml_run_dir() -%}
{%- set candidates_path = candidates_file() -%}
{%- set policy_file = policy_path() -%}
{%- set globals_files = [
    run_dir ~ '/globals/run_context.json',
    run_dir ~ '/globals/target_predictability_rankings.csv',
] %}
{%- set no_files = values_relation([('input_kind', 'varchar'), ('path', 'varchar'), ('sha256', 'varchar')], []) %}

with

listed_files as (

    select * from {{ ref('stg_foxml__run_files') }}

),

run_files as (

    -- the listed files under targets/<target>/reproducibility/ (none without a run directory: the listing is empty)
    select
        'run' as input_kind,
        {{ run_relative_path('source_file') }} as path,
        tp_file_sha256(source_file) as sha256
    from listed_files
    where
        starts_with(source_file, {{ sql_string(run_dir ~ '/targets/') }})
        and regexp_matches(
            substr(source_file, length({{ sql_string(run_dir ~ '/targets/') }}) + 1),
            '(?s)^[^/]+/reproducibility/.*\.(?:json|parquet)$'
        )

),

run_globals_files as (

    {% if run_dir %}
        select
            'run' as input_kind,
            {{ run_relative_path('filename') }} as path,
            sha256(content) as sha256
        from read_blob({{ sql_string_list(globals_files) }})
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
    select * from run_globals_files
    union all
    select * from candidates_files
    union all
    select * from policy_files

)

select * from final
