-- noqa: disable=LT02,LT05
-- (this file holds only Jinja macros: sqlfluff checks the indentation of the template source, which renders to nothing)
{#-
    input_source(source_name, table_name): source(source_name, table_name), for the sources whose location names
    an input var (`{run_dir}`, `{candidates_file}`, see their YAML). dbt does not render a project var read in
    YAML, so the location still holds the var's Jinja; it is rendered here, in the model, where env_var works.
    Outside dbt (sqlfluff renders without `render`) the relation is returned as it is.
-#}
{% macro input_source(source_name, table_name) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- if render is not defined -%}{{ return(relation) }}{%- endif -%}
    {{- return(render(relation | string)) -}}
{% endmacro %}

{#-
    glob_regex(pattern): a regex (RE2, anchored) that matches the paths the glob `pattern` matches, for a glob like
    the sources' ('*' and '?' within one path segment, '**/' any number of folders; nothing else is glob syntax).
-#}
{% macro glob_regex(pattern) %}
    {%- set ns = namespace(regex='^') -%}
    {%- for token in modules.re.split('(\\*\\*/|\\*|\\?)', pattern) -%}
        {%- if token == '**/' -%}{%- set ns.regex = ns.regex ~ '(?:[^/]+/)*' -%}
        {%- elif token == '*' -%}{%- set ns.regex = ns.regex ~ '[^/]*' -%}
        {%- elif token == '?' -%}{%- set ns.regex = ns.regex ~ '[^/]' -%}
        {%- else -%}{%- set ns.regex = ns.regex ~ modules.re.escape(token) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(ns.regex ~ '$') -}}
{% endmacro %}

{#-
    listed_input(source_name, table_name): input_source() for a source whose location is read_blob over a glob of
    the run directory (`read_blob('{run_dir}/targets/...')`): the files of the build's one listing of the run
    (stg_foxml__run_files) that match the glob (glob_regex), read by tp_file_bytes, a SQL function written in Python
    (trainplan.warehouse.file_bytes, registered by the dbt-duckdb plugin in profiles.yml), with read_blob's columns
    filename, content and size. Globbing the run directory again per source would walk every folder again (100k
    files: seconds per walk), and read_blob over the listed paths needs them in the SQL (M: 13 MB for one model) and
    took twice the time. A glob that matches no listed file reads no file (no rows): a staging model reads only
    listed files, so plan_input_files, which hashes the listed ones, covers every read.
-#}
{% macro listed_input(source_name, table_name) %}
    {%- set relation = input_source(source_name, table_name) | string -%}
    {%- set listing = ref('stg_foxml__run_files') -%}  {#- also records the listing as a dependency while parsing -#}
    {%- if not execute -%}{{- return(relation) -}}{%- endif -%}
    {%- set location = file_read_location(relation, 'listed_input') -%}
    {%- if location.group(1) != 'read_blob' or location.group(3) | trim -%}
        {{ exceptions.raise_compiler_error("listed_input: not read_blob over one glob, without options: " ~ relation) }}
    {%- endif -%}
    {{- return(
        "(select filename, content, octet_length(content) as size from (select source_file as filename, "
        ~ "tp_file_bytes(source_file) as content from " ~ listing ~ " where regexp_matches(source_file, "
        ~ sql_string(glob_regex(location.group(2))) ~ ")) as listed_files)"
    ) -}}
{% endmacro %}

{#-
    run_dir_input(source_name, table_name): input_source() for a source of one file of the run directory outside
    targets/ (read_blob or read_text of `{run_dir}/globals/...`). Without a run directory (a ready candidates file)
    it reads an empty list of files: the empty var would make the path /globals/..., a file of the machine's root.
-#}
{% macro run_dir_input(source_name, table_name) %}
    {%- set relation = input_source(source_name, table_name) | string -%}
    {%- if not execute or foxml_run_dir() -%}{{ return(relation) }}{%- endif -%}
    {%- set location = file_read_location(relation, 'run_dir_input') -%}
    {{- return(location.group(1) ~ "(cast([] as varchar[])" ~ location.group(3) ~ ")") -}}
{% endmacro %}

{#- file_read_location(relation, macro_name): the match of a read_blob or read_text over one quoted path or glob,
    with the groups function, path and the rest of the arguments; a compile error naming `macro_name` for any other
    relation. -#}
{% macro file_read_location(relation, macro_name) %}
    {%- set location = modules.re.match(
        "^\\s*(read_blob|read_text)\\('([^']*)'(.*)\\)\\s*$", relation, modules.re.DOTALL
    ) -%}
    {%- if location is none -%}
        {{ exceptions.raise_compiler_error(macro_name ~ ": not read_blob or read_text over one glob: " ~ relation) }}
    {%- endif -%}
    {{- return(location) -}}
{% endmacro %}

{#-
    json_documents(relation, path_regex=none, path_parts=[]): the head every JSON staging model shares — one row
    per file of a read_blob source, read once and checked before it is parsed: source_file; one column per name in
    `path_parts`, the capture groups of `path_regex` (a SQL expression) over the file's path ('' becomes null);
    doc (json, null when the bytes are not UTF-8 or the text does not parse); is_valid_utf8, is_valid_json,
    is_object and strict_json_problem (json_strictness_problem). A malformed file stays a row, for the input
    checks. A staging model selects `* exclude (doc)` and the keys it reads from doc.
-#}
{% macro json_documents(relation, path_regex=none, path_parts=[]) %}
    {%- set part_columns = [] -%}
    {%- for part in path_parts -%}
        {%- do part_columns.append("nullif(path_parts." ~ part ~ ", '') as " ~ part ~ ",") -%}
    {%- endfor %}
    select
        source_file,
        {{ part_columns | join(' ') }}
        doc,
        is_valid_utf8,
        doc is not null as is_valid_json,
        coalesce(json_type(doc) = 'OBJECT', false) as is_object,
        {{ json_strictness_problem('doc_text', 'doc', 'doc_keys') }} as strict_json_problem
    from (
        select
            *,
            doc_text is not null as is_valid_utf8,
            try_cast(doc_text as json) as doc,
            json_keys(doc) as doc_keys
        from (
            select
                filename as source_file,
                {{ "regexp_extract(filename, " ~ path_regex ~ ", " ~ path_parts ~ ") as path_parts," if path_parts }}
                {{ utf8_text('content') }} as doc_text
            from {{ relation }}
        ) as decoded
    ) as parsed
{% endmacro %}

{#- utf8_text(blob): the bytes of a read_blob `content` as text, null when they are not valid UTF-8. -#}
{% macro utf8_text(blob) -%}
    try(decode({{ blob }}))
{%- endmacro %}

{#-
    json_strictness_problem(text, doc, keys=none): null when the parsed document `doc` (json, from `text`) is strict
    JSON, else what is wrong. DuckDB's parser accepts more than JSON — NaN and Infinity literals, trailing commas —
    and keeps every value of a duplicated key (which one a lookup returns is not defined), so these are looked for
    here:
      - a duplicated key in the top-level object, in an object that is one of its values, or in an object listed
        in one of its arrays (every key trainplan reads lives there; deeper objects are not looked into);
      - a NaN or Infinity literal, or a trailing comma, outside the string literals of the text.
    Cheap first, since every raw file goes through it: the top-level keys (`keys`: json_keys(doc), computed once by
    the caller when given) are compared with their distinct list; then one regex pass over the text lets through
    only the texts with a second '{', a nan or inf, or a comma before a closing bracket — the others (most files)
    are done. Only those get the nested key checks and have their string literals stripped.
-#}
{% macro json_strictness_problem(text, doc, keys=none) -%}
    {%- set keys = keys or 'json_keys(' ~ doc ~ ')' -%}
    {%- set stripped = "regexp_replace(" ~ text ~ ", '\"(?:[^\"\\\\]|\\\\.)*\"', '\"\"', 'g')" -%}
    case
        when {{ doc }} is null then null
        when coalesce(len({{ keys }}) != len(list_distinct({{ keys }})), false)
            then 'duplicate key in a JSON object (which value counts is undefined)'
        when not regexp_matches({{ text }}, '[{][^{]*[{]|(?i:nan|inf)|,\s*[\]}]') then null
        when
            coalesce(list_bool_or(list_transform(
                json_extract({{ doc }}, '$.*'),
                v -> case json_type(v)
                    when 'OBJECT' then {{ json_has_duplicate_keys('v') }}
                    when 'ARRAY' then
                        coalesce(json_type(v, '$[0]') = 'OBJECT', false)
                        and coalesce(list_bool_or(list_transform(
                            json_extract(v, '$[*]'),
                            e -> json_type(e) = 'OBJECT' and {{ json_has_duplicate_keys('e') }}
                        )), false)
                    else false
                end
            )), false)
            then 'duplicate key in a JSON object (which value counts is undefined)'
        when
            regexp_matches({{ text }}, '(?i)nan|inf')
            and regexp_matches({{ stripped }}, '(?i)nan|inf')
            then 'NaN or Infinity literal: not JSON'
        when
            regexp_matches({{ text }}, ',\s*[\]}]')
            and regexp_matches({{ stripped }}, ',\s*[\]}]')
            then 'trailing comma: not JSON'
    end
{%- endmacro %}

{#- json_has_duplicate_keys(doc): true when the JSON object `doc` names one key twice (false for a non-object). -#}
{% macro json_has_duplicate_keys(doc) -%}
    coalesce(len(json_keys({{ doc }})) != len(list_distinct(json_keys({{ doc }}))), false)
{%- endmacro %}

{#-
    The CSV line macros of stg_foxml__target_rankings (RFC 4180 fields on one line: a field is either unquoted
    text without commas or quotes, or a quoted text in which a quote is doubled).
    csv_line_parses(line): true when the whole line is such fields separated by commas.
    csv_line_fields(line): the line's fields as written (a quoted one keeps its quotes).
    csv_field_value(field): a field's value — quotes removed and "" undoubled; an empty unquoted field is null.
-#}
{% macro csv_line_parses(line) -%}
    regexp_full_match({{ line }}, '(?:"(?:[^"]|"")*"|[^,"]*)(?:,(?:"(?:[^"]|"")*"|[^,"]*))*')
{%- endmacro %}

{% macro csv_line_fields(line) -%}
    regexp_extract_all({{ line }}, '(?:^|,)("(?:[^"]|"")*"|[^,"]*)', 1)
{%- endmacro %}

{% macro csv_field_value(field) -%}
    case
        when {{ field }} = '' then null
        when starts_with({{ field }}, '"') then replace({{ field }}[2:-2], '""', '"')
        else {{ field }}
    end
{%- endmacro %}

{#- files_exist(pattern): true when the glob matches at least one file at run time (false while parsing). -#}
{% macro files_exist(pattern) %}
    {% if not execute or not pattern %}
        {{ return(false) }}
    {% endif %}
    {% set found = run_query("select count(*) from glob(" ~ sql_string(pattern) ~ ")") %}
    {{ return(found.rows[0][0] > 0) }}
{% endmacro %}

{#-
    rows_as_json(relation, pattern): every row of a columnar source (read_parquet with file_row_number and the
    file's path as `trainplan_source_file`, a name of trainplan's, so a column `filename` in the file stays the
    file's own) as (source_file, row_number, doc json), so a column missing from a file is a null key rather than a
    binder error. read_parquet and read_csv fail on a glob that matches nothing, unlike read_text: when
    `pattern` matches no file the relation is not read at all and the select is empty.
-#}
{% macro rows_as_json(relation, pattern) %}
    {% if files_exist(pattern) %}
        select
            src.trainplan_source_file as source_file,
            src.file_row_number + 1 as source_row,
            to_json(src) as doc
        from {{ relation }} as src
    {% else %}
        {{ no_rows_as_json() }}
    {% endif %}
{% endmacro %}

{#- no_rows_as_json(): an empty relation with the columns of rows_as_json (source_file, source_row, doc). -#}
{% macro no_rows_as_json() %}
    select
        null::varchar as source_file,
        null::bigint as source_row,
        null::json as doc
    limit 0
{% endmacro %}

{#-
    cohort_metrics_select(relation, file_format): the select shared by the metrics.json and metrics.parquet staging
    models, over a relation with `source_file` and `doc` (json) — for 'json', json_documents' relation, whose
    is_valid_utf8 and strict_json_problem pass through (a parquet file is neither: true and null); for 'parquet',
    base_foxml__cohort_metrics_parquet_rows, whose read_error passes through. Path parts come from the file path: target
    folder, optional stage= segment (the newer FoxML layout), view, symbol=, optional universe=, cohort=.
-#}
{% macro cohort_metrics_select(relation, file_format) %}
    {#- each document is parsed once for all its keys (json_extract with a list of paths): one ->> per key
        parsed every document again, each call holding its own parse buffers (M: 0.43 GB for 20,000 documents) -#}
    {%- set keys = ['target', 'stage', 'metric_name', 'task_type', 'auc', 'n_effective', 'n_effective_cs', 'n_samples',
        'sample_size', 'n_successful_families', 'leakage_flag', 'timestamp'] -%}
    select
        source_file,
        file_format,
        regexp_replace(source_file, '/[^/]+$', '') as cohort_folder,
        nullif(path_parts.target_dir, '') as target_dir,
        upper(nullif(path_parts.stage_dir, '')) as path_stage,
        nullif(path_parts.view, '') as view,
        nullif(path_parts.symbol, '') as symbol,
        nullif(path_parts.universe, '') as universe_dir,
        nullif(path_parts.cohort_id, '') as cohort_id,
        is_valid_utf8,
        doc is not null as is_valid_json,
        coalesce(json_type(doc) = 'OBJECT', false) as is_object,
        strict_json_problem,
        read_error,
        target_json ->> '$' as target,
        json_type(target_json) as target_json_type,
        upper(trim(stage_json ->> '$')) as stage,
        metric_name_json ->> '$' as metric_name,
        upper(trim(task_type_json ->> '$')) as task_type,
        try_cast(auc_json ->> '$' as double) as score,
        json_type(auc_json) as score_json_type,
        auc_json ->> '$' as score_text,
        try_cast(n_effective_json ->> '$' as double) as n_effective,
        try_cast(n_effective_cs_json ->> '$' as double) as n_effective_cs,
        try_cast(n_samples_json ->> '$' as double) as n_samples,
        try_cast(sample_size_json ->> '$' as double) as sample_size,
        case
            when coalesce(json_type(n_effective_json), 'NULL') != 'NULL' then 'n_effective'
            when coalesce(json_type(n_effective_cs_json), 'NULL') != 'NULL' then 'n_effective_cs'
            when coalesce(json_type(n_samples_json), 'NULL') != 'NULL' then 'n_samples'
            when coalesce(json_type(sample_size_json), 'NULL') != 'NULL' then 'sample_size'
        end as sample_size_key,
        try_cast(n_successful_families_json ->> '$' as double) as n_successful_families,
        upper(trim(leakage_flag_json ->> '$')) as leakage_flag,
        timestamp_json ->> '$' as timestamp_text,
        try_cast(timestamp_json ->> '$' as timestamp) as recorded_at
    from (
        select
            *,
            {% for key in keys -%}
                key_values[{{ loop.index }}] as {{ key }}_json,
            {% endfor -%}
        from (
            select
                source_file,
                {{ sql_string(file_format) }} as file_format,
                regexp_extract(
                    source_file,
                    '/targets/([^/]+)/reproducibility/(?:stage=([^/]+)/)?(CROSS_SECTIONAL|SYMBOL_SPECIFIC)/'
                    || '(?:symbol=([^/]+)/)?(?:universe=([^/]+)/)?cohort=([^/]+)/metrics\.(?:json|parquet)$',
                    ['target_dir', 'stage_dir', 'view', 'symbol', 'universe', 'cohort_id']
                ) as path_parts,
                {% if file_format == 'json' -%}
                    is_valid_utf8,
                    strict_json_problem,
                    null::varchar as read_error,
                {%- else -%}
                    true as is_valid_utf8,
                    null::varchar as strict_json_problem,
                    read_error,
                {%- endif %}
                doc,
                json_extract(doc, [
                    {%- for key in keys -%}
                        '$.{{ key }}'{{ ', ' if not loop.last }}
                    {%- endfor -%}
                ]) as key_values
            from {{ relation }}
        ) as extracted
    ) as parsed
{% endmacro %}

{#-
    foxml_scope_path_regex(): the regex of a scope folder in a FoxML run — target folder, optional stage= segment,
    view, optional symbol= segment — with three groups (target_dir, view, symbol). One place for the layout that
    the per-scope artifacts (quarantines, target confidence) share.
-#}
{% macro foxml_scope_path_regex() %}
    {{- return("'/targets/([^/]+)/reproducibility/(?:stage=[^/]+/)?(CROSS_SECTIONAL|SYMBOL_SPECIFIC)/(?:symbol=([^/]+)/)?'") -}}
{% endmacro %}
