{#-
    How stg_candidates__routing_candidates reads a routing_candidates.parquet. Two readers give the same rows:

    - typed: the columns are selected and cast directly. Used when every column the model reads has one of the
      types listed in candidates_typed_columns() (the reference's file: strings, a double score, a bigint
      sample size, all-null columns typed INTEGER, and trainplan's own snapshot), so no value can read
      differently than through JSON. A million rows: about 1 s.
    - json: each row becomes one JSON document (rows_as_json) and each key is read from it, so a column of any
      type, or missing from the file, reads as a null key rather than a binder error. A million rows: about 10 s.

    The var candidates_reader (env TRAINPLAN_CANDIDATES_READER) is 'auto' (typed when the types allow it, else
    json) or 'json' (always json: what the tests compare the typed reader against).
-#}

{#- candidates_rows(relation, pattern): the rows of stg_candidates__routing_candidates, by the reader that applies. -#}
{% macro candidates_rows(relation, pattern) %}
    {%- set types = candidates_column_types(relation, pattern) -%}
    {%- if types is not none -%}
        {{ candidates_typed_select(relation, types) }}
    {%- else -%}
        {{ candidates_json_select(relation, pattern) }}
    {%- endif -%}
{% endmacro %}

{#- candidates_typed_columns(): per key the model reads, the DuckDB types the typed reader takes it in. -#}
{% macro candidates_typed_columns() %}
    {%- set text = ['VARCHAR'] -%}
    {%- set null_or_number = ['INTEGER', 'BIGINT', 'DOUBLE'] -%}
    {{ return({
        'target': text, 'symbol': text, 'mode': text, 'stability': text, 'leakage_status': text,
        'model_status': text, 'task_type': text, 'metric_name': text, 'timestamp': text, 'git_commit': text,
        'score': ['DOUBLE'], 'sample_size': ['BIGINT'],
        'score_ci_low': null_or_number, 'score_ci_high': null_or_number,
        'feature_set_id': ['INTEGER', 'VARCHAR'],
        'failed_model_families': ['INTEGER[]', 'VARCHAR[]'],
        'stability_metrics': ['INTEGER'],
    }) }}
{% endmacro %}

{#-
    candidates_column_types(relation, pattern): {column: DuckDB type} of the candidates file(s), or none when the
    json reader must be used (var candidates_reader = 'json', no file, while parsing, or a column of a type
    candidates_typed_columns() does not list).
-#}
{% macro candidates_column_types(relation, pattern) %}
    {%- set reader = var('candidates_reader') or 'auto' -%}
    {%- if execute and reader not in ('auto', 'json') -%}
        {{ exceptions.raise_compiler_error(
            "var candidates_reader (env TRAINPLAN_CANDIDATES_READER): expected auto or json, got '" ~ reader ~ "'"
        ) }}
    {%- endif -%}
    {%- if reader == 'json' or not files_exist(pattern) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set described = run_query("describe select * from " ~ relation) -%}
    {%- set types = {} -%}
    {%- for row in described.rows -%}
        {%- do types.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- for column, accepted in candidates_typed_columns().items() -%}
        {%- if column in types and types[column] not in accepted -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(types) }}
{% endmacro %}

{#-
    candidates_typed_select(relation, types): the typed reader, the same columns as rows_as_json's keys read by
    stg_candidates__routing_candidates: what `doc ->> key` gives is the column (cast to text where the JSON
    reader returned text), json_type is derived from the value (a missing column: null, as for a missing key).
-#}
{% macro candidates_typed_select(relation, types) %}
    {%- set c = {} -%}
    {%- for column in candidates_typed_columns() -%}
        {%- do c.update({column: ('src.' ~ adapter.quote(column)) if column in types else 'null'}) -%}
    {%- endfor -%}
    select
        src.trainplan_source_file as source_file,
        src.file_row_number + 1 as source_row,
        {{ c.target }}::varchar as target,
        {{ candidates_json_type(c.target, 'target' in types, "'VARCHAR'") }} as target_json_type,
        {{ c.symbol }}::varchar as symbol,
        upper(trim({{ c.mode }}::varchar)) as source_mode,
        {{ c.score }}::double as score,
        {{ candidates_json_type(c.score, 'score' in types, "'DOUBLE'") }} as score_json_type,
        to_json({{ c.score }}::double)::varchar as score_text,
        try_cast({{ c.score_ci_low }} as double) as score_ci_low,
        try_cast({{ c.score_ci_high }} as double) as score_ci_high,
        upper(trim({{ c.stability }}::varchar)) as stability,
        -- an INTEGER stability_metrics is all nulls (the reference's null-typed column): no field to read
        null::double as stability_mean_overlap,
        null::double as stability_std_overlap,
        null::double as stability_mean_tau,
        null::double as stability_std_tau,
        null::integer as stability_n_snapshots,
        null::integer as stability_n_comparisons,
        try_cast({{ c.sample_size }} as double) as sample_size,
        {{ candidates_json_type(
            c.sample_size, 'sample_size' in types, "case when " ~ c.sample_size ~ " < 0 then 'BIGINT' else 'UBIGINT' end"
        ) }} as sample_size_json_type,
        upper(trim({{ c.leakage_status }}::varchar)) as leakage_status,
        {{ c.feature_set_id }}::varchar as feature_set_id,
        list_filter(
            coalesce(try_cast({{ c.failed_model_families }} as varchar[]), []::varchar[]),
            family -> family is not null
        ) as failed_model_families,
        upper(trim({{ c.model_status }}::varchar)) as model_status,
        upper(trim({{ c.task_type }}::varchar)) as task_type,
        {{ c.metric_name }}::varchar as metric_name,
        try_cast({{ c.timestamp }} as timestamp) as recorded_at,
        {{ c.git_commit }}::varchar as git_commit
    from {{ relation }} as src
{% endmacro %}

{#- candidates_json_type(column, present, json_type): json_type() of the key: null when the file lacks the column,
    'NULL' for a null value, else `json_type` (an SQL expression). -#}
{% macro candidates_json_type(column, present, json_type) %}
    {%- if present -%}
        case when {{ column }} is null then 'NULL' else {{ json_type }} end
    {%- else -%}
        null::varchar
    {%- endif -%}
{% endmacro %}

{#- candidates_json_select(relation, pattern): the JSON reader (every row a document; a missing key is null). -#}
{% macro candidates_json_select(relation, pattern) %}
    select
        source_file,
        source_row,
        doc ->> '$.target' as target,
        json_type(doc, '$.target') as target_json_type,
        doc ->> '$.symbol' as symbol,
        upper(trim(doc ->> '$.mode')) as source_mode,
        try_cast(doc ->> '$.score' as double) as score,
        json_type(doc, '$.score') as score_json_type,
        doc ->> '$.score' as score_text,
        try_cast(doc ->> '$.score_ci_low' as double) as score_ci_low,
        try_cast(doc ->> '$.score_ci_high' as double) as score_ci_high,
        upper(trim(doc ->> '$.stability')) as stability,
        try_cast(doc ->> '$.stability_metrics.mean_overlap' as double) as stability_mean_overlap,
        try_cast(doc ->> '$.stability_metrics.std_overlap' as double) as stability_std_overlap,
        try_cast(doc ->> '$.stability_metrics.mean_tau' as double) as stability_mean_tau,
        try_cast(doc ->> '$.stability_metrics.std_tau' as double) as stability_std_tau,
        try_cast(doc ->> '$.stability_metrics.n_snapshots' as double)::integer as stability_n_snapshots,
        try_cast(doc ->> '$.stability_metrics.n_comparisons' as double)::integer as stability_n_comparisons,
        try_cast(doc ->> '$.sample_size' as double) as sample_size,
        json_type(doc, '$.sample_size') as sample_size_json_type,
        upper(trim(doc ->> '$.leakage_status')) as leakage_status,
        doc ->> '$.feature_set_id' as feature_set_id,
        list_filter(
            coalesce(try_cast(doc -> '$.failed_model_families' as varchar[]), []::varchar[]),
            family -> family is not null
        ) as failed_model_families,
        upper(trim(doc ->> '$.model_status')) as model_status,
        upper(trim(doc ->> '$.task_type')) as task_type,
        doc ->> '$.metric_name' as metric_name,
        try_cast(doc ->> '$.timestamp' as timestamp) as recorded_at,
        doc ->> '$.git_commit' as git_commit
    from ({{ rows_as_json(relation, pattern) }}) as source
{% endmacro %}
