{#-
    load_routing_policy(): the routing policy YAML, read by DuckDB at build time and parsed with fromyaml.
    Returns the `routing` mapping. Outside execution (parsing) it returns an empty mapping.
-#}
{% macro load_routing_policy() %}
    {% if not execute %}
        {{ return({}) }}
    {% endif %}
    {% set path = policy_path() %}
    {% set listing = run_query("select count(*) from glob(" ~ sql_string(path) ~ ")") %}
    {% if listing.rows[0][0] == 0 %}
        {{ exceptions.raise_compiler_error("routing policy: file not found: " ~ path ~ " (dbt var policy_path / env TRAINPLAN_POLICY)") }}
    {% endif %}
    {% set rows = run_query("select content from read_text(" ~ sql_string(path) ~ ")") %}
    {% set doc = fromyaml(rows.rows[0][0]) %}
    {% if doc is not mapping or 'routing' not in doc or doc['routing'] is not mapping %}
        {{ exceptions.raise_compiler_error("routing policy " ~ path ~ ": expected a top-level mapping with the key 'routing'") }}
    {% endif %}
    {{ return(doc['routing']) }}
{% endmacro %}

{#- sql_string(value): a SQL string literal, single quotes doubled. Every config value reaches SQL through it. -#}
{% macro sql_string(value) %}
    {{- return("'" ~ (value | string | replace("'", "''")) ~ "'") -}}
{% endmacro %}

{#- policy_path(): the routing policy file — dbt var policy_path, else env TRAINPLAN_POLICY, else the shipped file. -#}
{% macro policy_path() %}
    {{- return(var('policy_path', env_var('TRAINPLAN_POLICY', 'CONFIG/training_config/routing_config.yaml'))) -}}
{% endmacro %}

{#- sql_string_list(values): a varchar[] literal of quoted strings. -#}
{% macro sql_string_list(values) %}
    {%- set items = [] -%}
    {%- for v in values -%}{%- do items.append(sql_string(v)) -%}{%- endfor -%}
    {{- return("[" ~ items | join(", ") ~ "]::varchar[]") -}}
{% endmacro %}
