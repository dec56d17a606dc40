{#-
    The routing policy: read at build time, validated strictly, defaults applied.

    load_routing_policy(): the `routing` mapping of the policy YAML (dbt var policy_path, else env TRAINPLAN_POLICY,
    else CONFIG/training_config/routing_config.yaml), read by DuckDB's read_text and parsed with fromyaml, then
    checked against routing_policy_schema(). Any unknown key, wrong type or value outside its allowed set fails
    the build with one line per problem, each naming the file, the key and what was expected. Optional keys that
    are missing get their documented default. Outside execution (parsing) it returns an empty mapping.
-#}
{% macro load_routing_policy() %}
    {% if not execute %}
        {{ return({}) }}
    {% endif %}
    {% set path = policy_path() %}
    {% set listing = run_query("select count(*) from glob(" ~ sql_string(path) ~ ")") %}
    {% if listing.rows[0][0] == 0 %}
        {{ exceptions.raise_compiler_error("routing policy error: file not found: " ~ path ~ " (dbt var policy_path / env TRAINPLAN_POLICY)") }}
    {% endif %}
    {% set rows = run_query("select content from read_text(" ~ sql_string(path) ~ ")") %}
    {% set doc = fromyaml(rows.rows[0][0]) %}
    {% if doc is not mapping or 'routing' not in doc or doc['routing'] is not mapping %}
        {{ exceptions.raise_compiler_error("routing policy error in " ~ path ~ ": expected valid YAML with a top-level mapping under the key 'routing'") }}
    {% endif %}
    {% set errors = [] %}
    {% for key in doc %}
        {% if key != 'routing' %}
            {% do errors.append("key '" ~ key ~ "' is not a known key; allowed top-level keys: routing") %}
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
    routing_policy_schema(): every key the policy may hold. The reference's keys (shared/reference §3.1) keep their
    names and meaning; trainplan's own keys are semantics, score_stage, stability_classification.top_k,
    horizon_patterns, same_day_minutes, model_families and the optional `multiclass` threshold. Spec fields:
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
        'stability_classification': {'type': 'mapping', 'default': {}, 'keys': {
            'stable_overlap_min': {'type': 'number', 'min': 0, 'max': 1, 'default': 0.70},
            'drifting_overlap_min': {'type': 'number', 'min': 0, 'max': 1, 'default': 0.50},
            'stable_tau_min': {'type': 'number', 'min': -1, 'max': 1, 'default': 0.60},
            'drifting_tau_min': {'type': 'number', 'min': -1, 'max': 1, 'default': 0.40},
            'max_std_overlap': {'type': 'number', 'min': 0, 'default': 0.20},
            'max_std_tau': {'type': 'number', 'min': 0, 'default': 0.25},
            'min_snapshots_for_stability': {'type': 'int', 'min': 2, 'default': 2},
            'top_k': {'type': 'int', 'min': 1, 'default': 20}}},
        'view_policy': {'type': 'identifier', 'default': 'auto'},
        'requested_view': {'type': 'enum', 'values': ['CROSS_SECTIONAL', 'SYMBOL_SPECIFIC', 'SINGLE_SYMBOL_TS'], 'default': none},
        'auto_flip_min_symbols': {'type': 'int', 'min': 1, 'default': 10},
        'horizon_patterns': {'type': 'horizon_patterns', 'default': [
            {'regex': '(\\d+)m', 'multiplier': 1},
            {'regex': '(\\d+)h', 'multiplier': 60},
            {'regex': '(\\d+)d', 'multiplier': 1440}]},
        'same_day_minutes': {'type': 'int', 'min': 1, 'default': 390},
        'model_families': {'type': 'name_list', 'default': ['lightgbm', 'xgboost']}
    }) }}
{% endmacro %}

{#- policy_repr(value): a value as the message shows it (strings quoted). -#}
{% macro policy_repr(value) %}
    {%- if value is string -%}{{ return("'" ~ value ~ "'") }}{%- endif -%}
    {%- if value is none -%}{{ return("null") }}{%- endif -%}
    {%- if value is boolean -%}{{ return(value | string | lower) }}{%- endif -%}
    {{- return(value | string) -}}
{% endmacro %}

{#- policy_validate_mapping(path, keys, value, errors): a mapping checked key by key; returns it with defaults. -#}
{% macro policy_validate_mapping(path, keys, value, errors) %}
    {% set out = {} %}
    {% if value is not mapping %}
        {% do errors.append("key '" ~ path ~ "': expected a mapping with the keys " ~ keys.keys() | join(', ') ~ ", got " ~ policy_repr(value)) %}
        {{ return(out) }}
    {% endif %}
    {% for key in value %}
        {% if key not in keys %}
            {% do errors.append("key '" ~ path ~ "." ~ key ~ "' is not a known key; allowed keys under '" ~ path ~ "': " ~ keys.keys() | join(', ')) %}
        {% endif %}
    {% endfor %}
    {% for key, spec in keys.items() %}
        {% if key in value %}
            {% do out.update({key: policy_validate_value(path ~ "." ~ key, spec, value[key], errors)}) %}
        {% elif spec.get('required', false) %}
            {% do errors.append("key '" ~ path ~ "." ~ key ~ "' is required (" ~ policy_expected(spec) ~ ")") %}
        {% elif spec['type'] == 'mapping' %}
            {% do out.update({key: policy_validate_mapping(path ~ "." ~ key, spec['keys'], {}, errors)}) %}
        {% else %}
            {% do out.update({key: spec.get('default')}) %}
        {% endif %}
    {% endfor %}
    {{ return(out) }}
{% endmacro %}

{#- policy_expected(spec): what a key expects, in words. -#}
{% macro policy_expected(spec) %}
    {%- set t = spec['type'] -%}
    {%- if t == 'enum' -%}{{ return("allowed values: " ~ spec['values'] | join(', ')) }}
    {%- elif t == 'enum_list' -%}{{ return("a list whose items are among the allowed values: " ~ spec['values'] | join(', ')) }}
    {%- elif t == 'mapping' -%}{{ return("a mapping with the keys " ~ spec['keys'].keys() | join(', ')) }}
    {%- elif t == 'bool' -%}{{ return("a boolean (true or false)") }}
    {%- elif t == 'int' -%}{{ return("a whole number" ~ (" >= " ~ spec['min'] if spec.get('min') is not none else "")) }}
    {%- elif t == 'number' -%}{{ return("a number" ~ (" in [" ~ spec['min'] ~ ", " ~ spec.get('max', 'inf') ~ "]" if spec.get('min') is not none else "")) }}
    {%- elif t == 'threshold' -%}{{ return("a number, or a mapping {classification: number, multiclass: number, regression: number or {default, short, medium, long, very_long: number}}") }}
    {%- elif t == 'horizon_patterns' -%}{{ return("a list of {regex: a regular expression with one capture group, multiplier: a whole number >= 1}") }}
    {%- elif t == 'name_list' -%}{{ return("a list of names made of letters, digits, '_', '-' or '.'") }}
    {%- elif t == 'identifier' -%}{{ return("a name made of letters, digits or '_'") }}
    {%- elif t == 'regex' -%}{{ return("a regular expression with one capture group") }}
    {%- endif -%}
    {{- return(t) -}}
{% endmacro %}

{#- policy_validate_value(path, spec, value, errors): one value checked against its spec; returns it. -#}
{% macro policy_validate_value(path, spec, value, errors) %}
    {% set t = spec['type'] %}
    {% set bad = "key '" ~ path ~ "': expected " ~ policy_expected(spec) ~ ", got " ~ policy_repr(value) %}
    {% if value is none and spec.get('default', 0) is none %}
        {{ return(none) }}
    {% elif t == 'mapping' %}
        {{ return(policy_validate_mapping(path, spec['keys'], value, errors)) }}
    {% elif t == 'bool' %}
        {% if value is not boolean %}{% do errors.append(bad) %}{% endif %}
    {% elif t == 'int' or t == 'number' %}
        {% if value is boolean or value is not number or (t == 'int' and value is not integer) %}
            {% do errors.append(bad) %}
        {% elif (spec.get('min') is not none and value < spec['min']) or (spec.get('max') is not none and value > spec['max']) %}
            {% do errors.append(bad) %}
        {% endif %}
    {% elif t == 'enum' %}
        {% if value is not string or value not in spec['values'] %}
            {% do errors.append("key '" ~ path ~ "': " ~ policy_repr(value) ~ " is not allowed; allowed values: " ~ spec['values'] | join(', ')) %}
        {% endif %}
    {% elif t == 'enum_list' %}
        {% if value is string or value is mapping or value is not sequence %}
            {% do errors.append(bad) %}
        {% else %}
            {% for item in value %}
                {% if item is not string or item not in spec['values'] %}
                    {% do errors.append("key '" ~ path ~ "': item " ~ policy_repr(item) ~ " is not allowed; allowed values: " ~ spec['values'] | join(', ')) %}
                {% endif %}
            {% endfor %}
        {% endif %}
    {% elif t == 'identifier' or t == 'name_list' %}
        {% set pattern = '^[A-Za-z0-9_]+$' if t == 'identifier' else '^[A-Za-z0-9_.-]+$' %}
        {% set items = [value] if t == 'identifier' else value %}
        {% if (t == 'name_list' and (value is string or value is mapping or value is not sequence)) %}
            {% do errors.append(bad) %}
        {% else %}
            {% for item in items %}
                {% if item is not string or not modules.re.match(pattern, item) %}
                    {% do errors.append("key '" ~ path ~ "': " ~ policy_repr(item) ~ " is not allowed; expected " ~ policy_expected(spec)) %}
                {% endif %}
            {% endfor %}
        {% endif %}
    {% elif t == 'threshold' %}
        {% do policy_validate_threshold(path, value, errors) %}
    {% elif t == 'horizon_patterns' %}
        {% do policy_validate_patterns(path, spec, value, errors) %}
    {% endif %}
    {{ return(value) }}
{% endmacro %}

{#- policy_validate_threshold(path, value, errors): a number, or the reference's task/tier mapping (§3.2). -#}
{% macro policy_validate_threshold(path, value, errors) %}
    {% set number_spec = {'type': 'number'} %}
    {% if value is mapping %}
        {% set allowed = ['classification', 'multiclass', 'regression'] %}
        {% for key in value %}
            {% if key not in allowed %}
                {% do errors.append("key '" ~ path ~ "." ~ key ~ "' is not a known key; allowed keys under '" ~ path ~ "': " ~ allowed | join(', ')) %}
            {% elif key == 'regression' and value[key] is mapping %}
                {% set tiers = ['default', 'short', 'medium', 'long', 'very_long'] %}
                {% for tier in value[key] %}
                    {% if tier not in tiers %}
                        {% do errors.append("key '" ~ path ~ ".regression." ~ tier ~ "' is not a known key; allowed keys under '" ~ path ~ ".regression': " ~ tiers | join(', ')) %}
                    {% else %}
                        {% do policy_validate_value(path ~ ".regression." ~ tier, number_spec, value[key][tier], errors) %}
                    {% endif %}
                {% endfor %}
            {% else %}
                {% do policy_validate_value(path ~ "." ~ key, number_spec, value[key], errors) %}
            {% endif %}
        {% endfor %}
    {% elif value is boolean or value is not number %}
        {% do errors.append("key '" ~ path ~ "': expected " ~ policy_expected({'type': 'threshold'}) ~ ", got " ~ policy_repr(value)) %}
    {% endif %}
{% endmacro %}

{#- policy_validate_patterns(path, spec, value, errors): horizon patterns, each a compilable regex with a group. -#}
{% macro policy_validate_patterns(path, spec, value, errors) %}
    {% if value is string or value is mapping or value is not sequence %}
        {% do errors.append("key '" ~ path ~ "': expected " ~ policy_expected(spec) ~ ", got " ~ policy_repr(value)) %}
        {{ return(none) }}
    {% endif %}
    {% for item in value %}
        {% set item_path = path ~ "[" ~ loop.index0 ~ "]" %}
        {% if item is not mapping %}
            {% do errors.append("key '" ~ item_path ~ "': expected " ~ policy_expected(spec) ~ ", got " ~ policy_repr(item)) %}
        {% else %}
            {% set checked = policy_validate_mapping(item_path, {
                'regex': {'type': 'regex', 'required': true},
                'multiplier': {'type': 'int', 'min': 1, 'required': true}}, item, errors) %}
            {% if item.get('regex') is not string %}
                {% do errors.append("key '" ~ item_path ~ ".regex': expected a regular expression with one capture group, got " ~ policy_repr(item.get('regex'))) %}
            {% elif modules.re.compile(item['regex']).groups < 1 %}
                {% do errors.append("key '" ~ item_path ~ ".regex': " ~ policy_repr(item['regex']) ~ " has no capture group; expected a regular expression with one capture group for the number") %}
            {% endif %}
        {% endif %}
    {% endfor %}
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

{#- policy_path(): the routing policy file — dbt var policy_path, else env TRAINPLAN_POLICY, else the shipped file. -#}
{% macro policy_path() %}
    {{- return(var('policy_path', env_var('TRAINPLAN_POLICY', 'CONFIG/training_config/routing_config.yaml'))) -}}
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
    and horizon tier, resolved like the reference (§3.2); strict also reads an optional `multiclass` key.
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
