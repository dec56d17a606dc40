-- One row per raw file a build reads: every JSON file under the run directory's targets/*/reproducibility
-- (what the foxml staging models read) and the ready routing_candidates file when one is given, with the
-- SHA-256 of its bytes. Paths are relative to the run directory, so a moved run keeps its fingerprint.
{%- set run_dir = var('run_dir', env_var('TRAINPLAN_RUN_DIR', '')) -%}
{%- set candidates_file = env_var('TRAINPLAN_CANDIDATES_FILE', '') %}

with

run_files as (

    {% if run_dir %}
        select
            'run' as input_kind,
            replace(filename, {{ sql_string(run_dir ~ '/') }}, '') as path,
            sha256(content) as sha256
        from read_blob({{ sql_string(run_dir ~ '/targets/*/reproducibility/**/*.json') }})
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
