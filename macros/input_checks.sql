-- noqa: disable=LT02,LT05
-- (this file holds only Jinja macros: sqlfluff checks the indentation of the template source, which renders to nothing)
{#-
    The input checks of models/intermediate/inputs: each check is a mapping of SQL text
        {'when': condition, 'problem': text expression, 'expected': text expression[, 'target': expression]}
    and a row that meets `when` becomes one problem row (the columns of int_inputs__problems).
-#}

{#-
    checks_as_problems(relation, checks, artifact, target='target', symbol='symbol', source_row='null::bigint',
    guard=none, distinct=false): one select per check, joined by union all, of the rows of `relation` that fail
    it: (source_file, source_row, artifact, target, symbol, problem, expected). `artifact`, `target`, `symbol`
    and `source_row` are SQL expressions over the relation (a check may override `target`); `guard` is a
    condition every check also needs; `distinct` keeps one problem per file where the relation has a row per item.
-#}
{% macro checks_as_problems(relation, checks, artifact, target='target', symbol='symbol', source_row='null::bigint', guard=none, distinct=false) %}
    {%- for check in checks %}
        {% if not loop.first %}union all{% endif %}
        select{{ ' distinct' if distinct }}
            source_file,
            {{ source_row }} as source_row,
            {{ artifact }} as artifact,
            {{ check.get('target', target) }} as target,
            {{ symbol }} as symbol,
            {{ check.problem }} as problem,
            {{ check.expected }} as expected
        from {{ relation }}
        where {{ '(' ~ guard ~ ') and (' ~ check.when ~ ')' if guard else check.when }}
    {%- endfor %}
{% endmacro %}

{#-
    json_shape_checks(expected): the checks every JSON document gets — its bytes are UTF-8, it parses, it is an
    object, it is strict JSON (no duplicated key, NaN, Infinity or trailing comma) — over the staging columns
    is_valid_utf8, is_valid_json, is_object and strict_json_problem; `expected` is a SQL text expression.
-#}
{% macro json_shape_checks(expected) %}
    {{ return(raw_text_checks(expected) + [
        {'when': 'is_valid_utf8 and not is_valid_json', 'problem': "'malformed JSON: the file does not parse'", 'expected': expected},
        {'when': 'is_valid_json and not is_object', 'problem': "'not a JSON object'", 'expected': expected},
    ]) }}
{% endmacro %}

{#-
    raw_text_checks(expected, target='target'): the checks of a JSON file's raw bytes, before its content is looked
    at — not valid UTF-8 (is_valid_utf8), or parsed by DuckDB but not strict JSON (strict_json_problem, see
    json_strictness_problem in macros/foxml_inputs.sql); `target`, when given, is the SQL expression of the row's
    target (else the one checks_as_problems is given).
-#}
{% macro raw_text_checks(expected, target=none) %}
    {%- set checks = [
        {'when': 'not is_valid_utf8', 'problem': "'not valid UTF-8: the bytes cannot be read as text'", 'expected': expected},
        {'when': 'strict_json_problem is not null', 'problem': 'strict_json_problem', 'expected': expected},
    ] -%}
    {%- if target -%}{%- for check in checks -%}{%- do check.update({'target': target}) -%}{%- endfor -%}{%- endif -%}
    {{ return(checks) }}
{% endmacro %}

{#-
    is_listed(lookup, value_column, value_expr, key_column, key): true when `value_expr` is one of the values of
    `value_column` in the lookup relation (a seed's import CTE) among its rows whose `key_column` is `key`; false
    for null. The enum and flag lookups of the checks (seeds accepted_enum_values, leakage_flag_statuses).
    `value_expr` must name its relation (metrics.stage, not stage): a bare name could bind inside the lookup.
-#}
{% macro is_listed(lookup, value_column, value_expr, key_column, key) -%}
    exists (
        select 1 from {{ lookup }}
        where {{ lookup }}.{{ key_column }} = {{ sql_string(key) }} and {{ lookup }}.{{ value_column }} = {{ value_expr }}
    )
{%- endmacro %}

{#- is_accepted_enum(enum_name, value_expr): is_listed over the accepted_enum_values seed, imported as `enum_values`. -#}
{% macro is_accepted_enum(enum_name, value_expr) -%}
    {{ is_listed('enum_values', 'enum_value', value_expr, 'enum_name', enum_name) }}
{%- endmacro %}

{#- is_known_leakage_flag(value_expr): is_listed over the leakage_flag_statuses seed, imported as `flag_statuses`. -#}
{% macro is_known_leakage_flag(value_expr) -%}
    {{ is_listed('flag_statuses', 'leakage_flag', value_expr, 'evidence', 'leakage_flag') }}
{%- endmacro %}

{#-
    unknown_value_check(relation, column, known_expr, expected, label=none): the check "a value of `column` that is
    not known": known_expr tells whether it is (see is_accepted_enum, is_known_leakage_flag); the problem names
    the value as "unknown <label> '<value>'" (label: the column's name by default).
-#}
{% macro unknown_value_check(relation, column, known_expr, expected, label=none) %}
    {{ return({
        'when': relation ~ '.' ~ column ~ ' is not null and not ' ~ known_expr,
        'problem': "'unknown " ~ (label or column) ~ " ''' || " ~ relation ~ "." ~ column ~ " || ''''",
        'expected': expected,
    }) }}
{% endmacro %}

{#- unknown_enum_check(relation, column, expected, enum_name=column, label=column): unknown_value_check over accepted_enum_values. -#}
{% macro unknown_enum_check(relation, column, expected, enum_name=none, label=none) %}
    {{ return(unknown_value_check(
        relation, column, is_accepted_enum(enum_name or column, relation ~ '.' ~ column), expected, label
    )) }}
{% endmacro %}

{#-
    is_rejected(relation, by_row=false): true when int_inputs__problems (imported as `problems`) lists the row's
    file — or, with by_row, the row itself (files with rows: the rankings CSV, a candidates parquet). The models
    that read the inputs keep `not is_rejected(...)` rows only.
-#}
{% macro is_rejected(relation, by_row=false) -%}
    exists (
        select 1 from problems
        where
            problems.source_file = {{ relation }}.source_file
            {%- if by_row %} and problems.source_row = {{ relation }}.source_row{% endif %}
    )
{%- endmacro %}
