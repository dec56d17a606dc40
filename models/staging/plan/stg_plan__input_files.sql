-- One row per raw file a build reads: the JSON and parquet files under the run directory's
-- targets/*/reproducibility, globals/run_context.json and globals/target_predictability_rankings.csv (what the
-- foxml sources read), and the ready routing_candidates file when one is given, with the SHA-256 of its bytes.
-- Paths are relative to the run directory, so a moved run keeps its fingerprint.
{%- set run_dir = var('run_dir', env_var('TRAINPLAN_RUN_DIR', '')) -%}
{%- set candidates_file = var('candidates_file', env_var('TRAINPLAN_CANDIDATES_FILE', '')) -%}
{%- set run_globs = [
    run_dir ~ '/targets/*/reproducibility/**/*.json',
    run_dir ~ '/targets/*/reproducibility/**/*.parquet',
    run_dir ~ '/globals/run_context.json',
    run_dir ~ '/globals/target_predictability_rankings.csv',
] %}

with

run_files as (

    {% if run_dir %}
        select
            'run' as input_kind,
            replace(filename, {{ sql_string(run_dir ~ '/') }}, '') as path,
            sha256(content) as sha256
        from read_blob({{ sql_string_list(run_globs) }})
    {% else %}
        select
            'run' as input_kind,
            null::varchar as path,
            null::varchar as sha256
        where false
    {% endif %}

),

candidates_files as (

    {% if candidates_file %}
        select
            'candidates' as input_kind,
            {{ sql_string(candidates_file.split('/')[-1]) }} as path,
            sha256(content) as sha256
        from read_blob({{ sql_string(candidates_file) }})
    {% else %}
        select
            'candidates' as input_kind,
            null::varchar as path,
            null::varchar as sha256
        where false
    {% endif %}

),

final as (

    select * from run_files
    union all
    select * from candidates_files

)

select * from final
