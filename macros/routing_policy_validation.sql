-- noqa: disable=LT02,LT05
-- (this file holds only Jinja macros: sqlfluff checks the indentation of the template source, which renders to nothing)

{#- Checking a routing policy against routing_policy_schema(): each problem becomes one line naming the key. -#}
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
        {% elif value != value or value > 1.7976931348623157e308 or value < -1.7976931348623157e308 %}
            {% do errors.append("key '" ~ path ~ "': expected a finite number, got " ~ policy_repr(value)) %}
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
        {% do policy_validate_threshold(path, value, errors, spec.get('min')) %}
    {% elif t == 'horizon_patterns' %}
        {% do policy_validate_patterns(path, spec, value, errors) %}
    {% endif %}
    {{ return(value) }}
{% endmacro %}

{#- policy_validate_threshold(path, value, errors, min): a number, or a task/tier mapping (docs/decision-semantics.md);
    with `min`, every number of it at least that. -#}
{% macro policy_validate_threshold(path, value, errors, min=none) %}
    {% set number_spec = {'type': 'number', 'min': min} %}
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
    {% else %}
        {% do policy_validate_value(path, number_spec, value, errors) %}
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
