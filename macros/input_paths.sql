-- noqa: disable=LT02,LT05
-- (this file holds only Jinja macros: sqlfluff checks the indentation of the template source, which renders to nothing)
{#- The input paths a build reads, from the dbt vars (dbt_project.yml), checked before any SQL names them. -#}

{#- foxml_run_dir(): the run directory dbt reads — the dbt var run_dir (dbt_project.yml; '' = none). It must be in
    the plain form the driver passes (a resolved path): with a trailing '/' or a '//' every listed path and every
    path the plan records would carry a '//', so it is an error; so is a path that input_path_var refuses. -#}
{% macro foxml_run_dir() %}
    {%- set run_dir = input_path_var('run_dir', 'TRAINPLAN_RUN_DIR') -%}
    {%- if run_dir.endswith('/') or '//' in run_dir -%}
        {{ exceptions.raise_compiler_error(
            "var run_dir (env TRAINPLAN_RUN_DIR) is '" ~ run_dir ~ "'; expected the run directory's path without a "
            ~ "trailing '/' or a '//'"
        ) }}
    {%- endif -%}
    {{- return(run_dir) -}}
{% endmacro %}

{#- run_relative_path(column): SQL for a path under the run directory relative to it: the run directory's prefix
    removed once, at the start (a path elsewhere stays whole). -#}
{% macro run_relative_path(column) -%}
    {%- set prefix = sql_string(foxml_run_dir() ~ '/') -%}
    case
        when starts_with({{ column }}, {{ prefix }}) then substr({{ column }}, length({{ prefix }}) + 1)
        else {{ column }}
    end
{%- endmacro %}

{#- candidates_file(): the ready routing_candidates.parquet — the dbt var candidates_file (dbt_project.yml; '' = read
    the run directory instead). -#}
{% macro candidates_file() %}
    {{- return(input_path_var('candidates_file', 'TRAINPLAN_CANDIDATES_FILE')) -}}
{% endmacro %}

{#- input_path_var(name, env): the dbt var `name`, a path the sources read. DuckDB reads "'" in it as the end of the
    SQL string and '[', '*', '?' and '\' as glob syntax (a run directory named with one lists no file, or another
    folder's files), so a path holding one is an error; the driver refuses the same characters
    (trainplan.config.run_dir.UNREADABLE_PATH_CHARACTERS). -#}
{% macro input_path_var(name, env) %}
    {%- set path = var(name) | string -%}
    {%- set found = [] -%}
    {%- for char in ["'", '[', '*', '?', '\\'] -%}
        {%- if char in path -%}{%- do found.append(char) -%}{%- endif -%}
    {%- endfor -%}
    {%- if found -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " (env " ~ env ~ ") is " ~ tojson(path) ~ ", which holds " ~ found | join(' ')
            ~ ": DuckDB would read it as glob syntax or the end of a SQL string; expected a path without ' [ * ? \\"
        ) }}
    {%- endif -%}
    {{- return(path) -}}
{% endmacro %}
