-- noqa: disable=LT02,LT05
-- (this file holds only Jinja macros: sqlfluff checks the indentation of the template source, which renders to nothing)
{#-
    The routing policy: read at build time, validated strictly, defaults applied.

    load_routing_policy(): the `routing` mapping of the policy YAML (policy_path(): the dbt var policy_path, else
    default_policy_path), parsed with fromyaml from the bytes base_policy__files read once per build (so every
    policy model parses the same bytes; a model that calls it declares `-- depends_on: ref('base_policy__files')`),
    then checked against routing_policy_schema(). It fails the build, naming the file, when base_policy__files is
    missing, holds another policy path, or holds bytes the file no longer has (its SHA-256 is checked against the
    file as the model compiles: an edit during the build, or a partial build over an older base_policy__files).
    Any unknown key, wrong type or value outside its allowed set fails the build with one line per problem, each
    naming the file, the key and what was expected. Optional keys that are missing get their documented default.
    Outside execution (parsing) it returns an empty mapping.
-#}
{% macro load_routing_policy() %}
    {% if not execute %}
        {{ return({}) }}
    {% endif %}
    {% set path = policy_path() %}
    {% set rebuild = "; expected base_policy__files built from it first (dbt build --select +" ~ this.identifier ~ ")" %}
    {% set stored = load_relation(ref('base_policy__files')) %}
    {% if stored is none %}
        {{ exceptions.raise_compiler_error("routing policy error: " ~ path ~ ": base_policy__files (the policy's bytes, read once per build) is not in the database" ~ rebuild) }}
    {% endif %}
    {% set files = run_query("select policy_file, content, sha256, policy_path from " ~ stored ~ " order by policy_file") %}
    {% if files.rows | length != 1 %}
        {{ exceptions.raise_compiler_error("routing policy error: " ~ path ~ " matched " ~ (files.rows | length) ~ " files (" ~ (files.columns[0].values() | join(", ")) ~ "); expected exactly one (dbt var policy_path / env TRAINPLAN_POLICY)") }}
    {% endif %}
    {% if files.rows[0][3] != path %}
        {{ exceptions.raise_compiler_error("routing policy error: " ~ path ~ ": base_policy__files holds another policy file, " ~ files.rows[0][3] ~ rebuild) }}
    {% endif %}
    {% do require_policy_file(path) %}
    {% set now = run_query("select sha256(content) from read_blob(" ~ sql_string(path) ~ ")") %}
    {% if now.rows[0][0] != files.rows[0][2] %}
        {{ exceptions.raise_compiler_error("routing policy error in " ~ path ~ ": the file changed after base_policy__files read it (SHA-256 " ~ files.rows[0][2] ~ " then, " ~ now.rows[0][0] ~ " now)" ~ rebuild ~ ", in a build that does not edit it") }}
    {% endif %}
    {% if files.rows[0][1] is none %}
        {{ exceptions.raise_compiler_error("routing policy error in " ~ path ~ ": the file is not UTF-8 text; expected a YAML document") }}
    {% endif %}
    {% set doc = fromyaml(files.rows[0][1]) %}
    {% if doc is not mapping or 'routing' not in doc or doc['routing'] is not mapping %}
        {{ exceptions.raise_compiler_error("routing policy error in " ~ path ~ ": expected valid YAML with a top-level mapping under the key 'routing'") }}
    {% endif %}
    {% set errors = [] %}
    {#- `training:` (resources per model family for `trainplan train`) is not dbt's: the driver validates it
        (driver/trainplan/config/training_policy.py) when it trains. -#}
    {% for key in doc %}
        {% if key not in ('routing', 'training') %}
            {% do errors.append("key '" ~ key ~ "' is not a known key; allowed top-level keys: routing, training") %}
        {% endif %}
    {% endfor %}
    {% set policy = policy_validate_mapping('routing', routing_policy_schema(), doc['routing'], errors) %}
    {% if errors | length > 0 %}
        {% set lines = [] %}
        {% for e in errors %}
            {% do lines.append("routing policy error in " ~ path ~ ": " ~ e) %}
        {% endfor %}
        {{ exceptions.raise_compiler_error(lines | join("\n")) }}
    {% endif %}
    {{ return(policy) }}
{% endmacro %}

{#-
    routing_policy_schema(): every key the policy may hold, and the one place its defaults are written. FoxML's
    keys keep their names and meaning (CONFIG/training_config/routing_config.yaml); trainplan's own keys are semantics, score_stage, stability_classification.top_k,
    horizon_patterns, same_day_minutes, model_families, hysteresis (docs/decision-semantics.md, "Hysteresis";
    off by default, its band 0.02 score units per lane, README "Route hysteresis" says why) and the optional
    `multiclass` threshold. A threshold spec may carry `min` (every number of the mapping is checked). Spec fields:
    type (mapping, bool, int, number, enum, enum_list, name_list, threshold, horizon_patterns, identifier),
    values (enum), min / max (numbers), required, default, keys (mapping).
-#}
{% macro routing_policy_schema() %}
    {% set stabilities = ['STABLE', 'DRIFTING', 'DIVERGED', 'UNKNOWN'] %}
    {% set score = {'type': 'threshold', 'required': true} %}
    {% set lane = {'type': 'mapping', 'required': true, 'keys': {'min_score': score, 'strong_score': score}} %}
    {{ return({
        'semantics': {'type': 'enum', 'values': ['strict', 'foxml'], 'default': 'strict'},
        'score_stage': {'type': 'enum', 'values': ['TARGET_RANKING', 'FEATURE_SELECTION'], 'default': 'TARGET_RANKING'},
        'dev_mode': {'type': 'bool', 'default': false},
        'dev_mode_min_sample_size': {'type': 'int', 'min': 0, 'default': none},
        'min_sample_size': {'type': 'mapping', 'required': true, 'keys': {
            'cross_sectional': {'type': 'int', 'min': 0, 'required': true},
            'symbol': {'type': 'int', 'min': 0, 'required': true}}},
        'block_on_leakage': {'type': 'bool', 'default': true},
        'cross_sectional': lane,
        'symbol': lane,
        'stability_allowlist': {'type': 'mapping', 'required': true, 'keys': {
            'cross_sectional': {'type': 'enum_list', 'values': stabilities, 'required': true},
            'symbol': {'type': 'enum_list', 'values': stabilities, 'required': true}}},
        'both_strong_behavior': {'type': 'enum', 'values': ['ROUTE_BOTH', 'PREFER_CS', 'PREFER_SYMBOL'], 'required': true},
        'enable_experimental_lane': {'type': 'bool', 'default': false},
        'experimental': {'type': 'mapping', 'default': {}, 'keys': {
            'min_score': {'type': 'threshold', 'default': 0.52},
            'allowed_stabilities': {'type': 'enum_list', 'values': stabilities, 'default': ['DRIFTING', 'UNKNOWN']},
            'max_fraction_symbols_per_target': {'type': 'number', 'min': 0, 'max': 1, 'default': 1.0}}},
        'require_safe_features_only': {'type': 'bool', 'default': false},
        'allowed_feature_leakage_status': {'type': 'enum_list', 'values': ['SAFE', 'SUSPECT', 'BLOCKED', 'UNKNOWN'], 'default': ['SAFE']},
        'require_min_successful_families': {'type': 'int', 'min': 0, 'default': 0},
        'log_decision_reasons': {'type': 'bool', 'default': false},
        'dump_plan_as': {'type': 'enum_list', 'values': ['JSON', 'YAML', 'MARKDOWN'], 'default': ['JSON']},
        'training_plan_files': {'type': 'enum_list', 'values': ['YAML', 'MARKDOWN', 'BY_TARGET', 'BY_SYMBOL', 'BY_TYPE', 'BY_ROUTE'],
            'default': ['YAML', 'MARKDOWN', 'BY_TARGET', 'BY_SYMBOL', 'BY_TYPE', 'BY_ROUTE']},
        'stability_classification': {'type': 'mapping', 'default': {}, 'keys': {
            'stable_overlap_min': {'type': 'number', 'min': 0, 'max': 1, 'default': 0.70},
            'drifting_overlap_min': {'type': 'number', 'min': 0, 'max': 1, 'default': 0.50},
            'stable_tau_min': {'type': 'number', 'min': -1, 'max': 1, 'default': 0.60},
            'drifting_tau_min': {'type': 'number', 'min': -1, 'max': 1, 'default': 0.40},
            'max_std_overlap': {'type': 'number', 'min': 0, 'default': 0.20},
            'max_std_tau': {'type': 'number', 'min': 0, 'default': 0.25},
            'min_snapshots_for_stability': {'type': 'int', 'min': 2, 'default': 2},
            'top_k': {'type': 'int', 'min': 1, 'default': 20},
            'cs_method': {'type': 'identifier', 'default': 'multi_model_aggregated'},
            'symbol_method': {'type': 'identifier', 'default': 'lightgbm'}}},
        'view_policy': {'type': 'identifier', 'default': 'auto'},
        'requested_view': {'type': 'enum', 'values': ['CROSS_SECTIONAL', 'SYMBOL_SPECIFIC', 'SINGLE_SYMBOL_TS'], 'default': none},
        'auto_flip_min_symbols': {'type': 'int', 'min': 1, 'default': 10},
        'horizon_patterns': {'type': 'horizon_patterns', 'default': [
            {'regex': '(\\d+)m', 'multiplier': 1},
            {'regex': '(\\d+)h', 'multiplier': 60},
            {'regex': '(\\d+)d', 'multiplier': 1440}]},
        'same_day_minutes': {'type': 'int', 'min': 1, 'default': 390},
        'model_families': {'type': 'name_list', 'default': ['lightgbm', 'xgboost']},
        'hysteresis': {'type': 'mapping', 'default': {}, 'keys': {
            'enabled': {'type': 'bool', 'default': false},
            'band': {'type': 'mapping', 'default': {}, 'keys': {
                'cross_sectional': {'type': 'threshold', 'min': 0, 'default': 0.02},
                'symbol': {'type': 'threshold', 'min': 0, 'default': 0.02}}},
            'min_runs_before_change': {'type': 'int', 'min': 1, 'default': 1}}}
    }) }}
{% endmacro %}

{#- sql_string(value): a SQL string literal, single quotes doubled. Every config value reaches SQL through it. -#}
{% macro sql_string(value) %}
    {{- return("'" ~ (value | string | replace("'", "''")) ~ "'") -}}
{% endmacro %}

{#- sql_number(value): a validated number as a SQL double literal (null for none). -#}
{% macro sql_number(value) %}
    {%- if value is none -%}{{ return("cast(null as double)") }}{%- endif -%}
    {%- if value is boolean or value is not number -%}
        {{ exceptions.raise_compiler_error("sql_number: not a number: " ~ value) }}
    {%- endif -%}
    {{- return("cast(" ~ sql_string(value) ~ " as double)") -}}
{% endmacro %}

{#- require_policy_file(path): fails the build when the policy path matches no file (base_policy__files reads it);
    nothing outside execution (parsing). -#}
{% macro require_policy_file(path) %}
    {% if execute %}
        {% set listing = run_query("select count(*) from glob(" ~ sql_string(path) ~ ")") %}
        {% if listing.rows[0][0] == 0 %}
            {{ exceptions.raise_compiler_error("routing policy error: file not found: " ~ path ~ " (dbt var policy_path / env TRAINPLAN_POLICY)") }}
        {% endif %}
    {% endif %}
{% endmacro %}

{#- policy_path(): the routing policy file — the dbt var policy_path, else default_policy_path (dbt_project.yml). -#}
{% macro policy_path() %}
    {{- return(var('policy_path') or var('default_policy_path')) -}}
{% endmacro %}

{#- sql_string_list(values): an array literal of quoted strings. -#}
{% macro sql_string_list(values) %}
    {%- set items = [] -%}
    {%- for v in values -%}{%- do items.append(sql_string(v)) -%}{%- endfor -%}
    {{- return(tp_string_array(items)) -}}
{% endmacro %}

{#- policy_flatten(prefix, value, out): appends (dotted key, value as text, type) for every leaf of a policy. -#}
{% macro policy_flatten(prefix, value, out) %}
    {% if value is mapping %}
        {% for key, item in value.items() %}
            {% do policy_flatten(prefix ~ "." ~ key, item, out) %}
        {% endfor %}
    {% elif value is not string and value is sequence and (value | length == 0 or value[0] is mapping) %}
        {% for item in value %}
            {% do policy_flatten(prefix ~ "[" ~ loop.index0 ~ "]", item, out) %}
        {% endfor %}
    {% elif value is not string and value is sequence %}
        {% do out.append((prefix, "[" ~ value | join(", ") ~ "]", "list")) %}
    {% elif value is none %}
        {% do out.append((prefix, "null", "null")) %}
    {% elif value is boolean %}
        {% do out.append((prefix, value | string | lower, "boolean")) %}
    {% elif value is number %}
        {% do out.append((prefix, value | string, "number")) %}
    {% else %}
        {% do out.append((prefix, value, "string")) %}
    {% endif %}
{% endmacro %}

{#- sql_bool(value): a validated boolean as a SQL literal. -#}
{% macro sql_bool(value) %}
    {{- return("true" if value else "false") -}}
{% endmacro %}

{#-
    policy_threshold(value, key, task_class, tier, semantics): (threshold, where it came from) for one task class
    and horizon tier, resolved like FoxML (docs/decision-semantics.md, "Thresholds"); strict also reads an optional `multiclass` key.
-#}
{% macro policy_threshold(value, key, task_class, tier, semantics) %}
    {% if value is not mapping %}
        {{ return((value, key)) }}
    {% endif %}
    {% if task_class == 'multiclass' and semantics == 'strict' and 'multiclass' in value %}
        {{ return((value['multiclass'], key ~ '.multiclass')) }}
    {% elif task_class in ['classification', 'multiclass'] %}
        {% if 'classification' in value %}
            {{ return((value['classification'], key ~ '.classification')) }}
        {% endif %}
        {{ return((0.5, key ~ '.classification missing: 0.5')) }}
    {% endif %}
    {% if 'regression' not in value %}
        {{ return((-0.5, key ~ '.regression missing: -0.5')) }}
    {% endif %}
    {% set r = value['regression'] %}
    {% if r is not mapping %}
        {{ return((r, key ~ '.regression')) }}
    {% elif tier in r %}
        {{ return((r[tier], key ~ '.regression.' ~ tier)) }}
    {% elif 'default' in r %}
        {{ return((r['default'], key ~ '.regression.default (no ' ~ tier ~ ')')) }}
    {% endif %}
    {{ return((-0.5, key ~ '.regression.' ~ tier ~ ' and default missing: -0.5')) }}
{% endmacro %}

{#-
    policy_threshold_rows(policy): every (semantics, lane, level, task class, tier, threshold, source) of a
    validated policy — the rows of stg_policy__thresholds (see that model for the two semantic differences).
-#}
{% macro policy_threshold_rows(policy) %}
    {% set rows = [] %}
    {% if not execute %}
        {{ return(rows) }}
    {% endif %}
    {% for semantics in ['strict', 'foxml'] %}
        {% for lane in ['cross_sectional', 'symbol'] %}
            {% for level in ['min_score', 'strong_score', 'experimental'] %}
                {% set value = policy['experimental']['min_score'] if level == 'experimental' else policy[lane][level] %}
                {% set key = 'experimental.min_score' if level == 'experimental' else lane ~ '.' ~ level %}
                {% for task_class in ['classification', 'multiclass', 'regression'] %}
                    {% for tier in ['default', 'short', 'medium', 'long', 'very_long'] %}
                        {% if level == 'experimental' and value is number and task_class == 'regression' and semantics == 'strict' %}
                            {% set found = policy_threshold(policy[lane]['min_score'], lane ~ '.min_score', task_class, tier, semantics) %}
                            {% set found = (found[0], found[1] ~ ' (experimental.min_score is a plain number: regression uses the lane min_score)') %}
                        {% else %}
                            {% set found = policy_threshold(value, key, task_class, tier, semantics) %}
                        {% endif %}
                        {% do rows.append((semantics, lane, level, task_class, tier, found[0], found[1])) %}
                    {% endfor %}
                {% endfor %}
            {% endfor %}
        {% endfor %}
    {% endfor %}
    {{ return(rows) }}
{% endmacro %}

{#-
    policy_band_rows(policy): every (lane, task class, tier, band, source) of the policy's hysteresis.band — the
    rows of stg_policy__hysteresis_bands. A band resolves like a strict threshold (policy_threshold): a number for
    every task and tier, or a {classification, multiclass, regression} mapping.
-#}
{% macro policy_band_rows(policy) %}
    {% set rows = [] %}
    {% if not execute %}
        {{ return(rows) }}
    {% endif %}
    {% for lane in ['cross_sectional', 'symbol'] %}
        {% set value = policy['hysteresis']['band'][lane] %}
        {% for task_class in ['classification', 'multiclass', 'regression'] %}
            {% for tier in ['default', 'short', 'medium', 'long', 'very_long'] %}
                {% set found = policy_threshold(value, 'hysteresis.band.' ~ lane, task_class, tier, 'strict') %}
                {% do rows.append((lane, task_class, tier, found[0], found[1])) %}
            {% endfor %}
        {% endfor %}
    {% endfor %}
    {{ return(rows) }}
{% endmacro %}

{#-
    values_relation(columns, rows): a relation of literal rows — `columns` a list of (name, SQL type), `rows` a list
    of tuples of SQL literal expressions (already quoted with sql_string / sql_number). No rows: an empty relation
    with the same typed columns.
-#}
{% macro values_relation(columns, rows) %}
    {%- set names = [] -%}
    {%- for c in columns -%}{%- do names.append(c[0]) -%}{%- endfor -%}
    {%- if rows | length == 0 -%}
        {%- set empty = [] -%}
        {%- for c in columns -%}{%- do empty.append("cast(null as " ~ c[1] ~ ") as " ~ c[0]) -%}{%- endfor -%}
        {{- return("select " ~ empty | join(", ") ~ " where false") -}}
    {%- endif -%}
    {%- set typed = [] -%}
    {%- for c in columns -%}{%- do typed.append("cast(" ~ c[0] ~ " as " ~ c[1] ~ ") as " ~ c[0]) -%}{%- endfor -%}
    {%- set tuples = [] -%}
    {%- for r in rows -%}{%- do tuples.append("(" ~ r | join(", ") ~ ")") -%}{%- endfor -%}
    {{- return("select " ~ typed | join(", ") ~ " from (values " ~ tuples | join(", ") ~ ") as v (" ~ names | join(", ") ~ ")") -}}
{% endmacro %}
