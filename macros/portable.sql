{#-
    Small wrappers around the few functions that are not standard SQL, so intermediate and mart models stay
    portable: each dispatches on the adapter (adapter.dispatch, project namespace `trainplan`), with the DuckDB
    form as the default (also used when no adapter exists, i.e. when sqlfluff renders the models). Another adapter (e.g. spark__...) only needs its own implementation here.
-#}

{#- tp_list_contains(list_expr, value_expr): true when the array holds the value. -#}
{% macro tp_list_contains(list_expr, value_expr) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_list_contains', 'trainplan')(list_expr, value_expr)) }}{%- endif -%}
    {{- return(default__tp_list_contains(list_expr, value_expr)) -}}
{% endmacro %}
{% macro default__tp_list_contains(list_expr, value_expr) -%}
    list_contains({{ list_expr }}, {{ value_expr }})
{%- endmacro %}

{#- tp_list_except(list_expr, remove_expr): the array's items that are not in the second array, order kept. -#}
{% macro tp_list_except(list_expr, remove_expr) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_list_except', 'trainplan')(list_expr, remove_expr)) }}{%- endif -%}
    {{- return(default__tp_list_except(list_expr, remove_expr)) -}}
{% endmacro %}
{% macro default__tp_list_except(list_expr, remove_expr) -%}
    list_filter({{ list_expr }}, lambda item: not list_contains(coalesce({{ remove_expr }}, []), item))
{%- endmacro %}

{#- tp_string_array(items): an array of varchar built from SQL expressions (a list of strings). -#}
{% macro tp_string_array(items) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_string_array', 'trainplan')(items)) }}{%- endif -%}
    {{- return(default__tp_string_array(items)) -}}
{% endmacro %}
{% macro default__tp_string_array(items) -%}
    cast([{{ items | join(', ') }}] as varchar[])
{%- endmacro %}

{#- tp_array_join(array_expr, separator): the array's items joined into one string. -#}
{% macro tp_array_join(array_expr, separator) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_array_join', 'trainplan')(array_expr, separator)) }}{%- endif -%}
    {{- return(default__tp_array_join(array_expr, separator)) -}}
{% endmacro %}
{% macro default__tp_array_join(array_expr, separator) -%}
    array_to_string({{ array_expr }}, {{ separator }})
{%- endmacro %}

{#- tp_sorted_string_agg_array(expr): aggregate into a sorted varchar array. -#}
{% macro tp_sorted_array_agg(expr) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_sorted_array_agg', 'trainplan')(expr)) }}{%- endif -%}
    {{- return(default__tp_sorted_array_agg(expr)) -}}
{% endmacro %}
{% macro default__tp_sorted_array_agg(expr) -%}
    array_agg({{ expr }} order by {{ expr }})
{%- endmacro %}

{#- tp_format_fixed(number_expr, decimals): the number as text with exactly `decimals` places, like Python's %.Nf. -#}
{% macro tp_format_fixed(number_expr, decimals) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_format_fixed', 'trainplan')(number_expr, decimals)) }}{%- endif -%}
    {{- return(default__tp_format_fixed(number_expr, decimals)) -}}
{% endmacro %}
{% macro default__tp_format_fixed(number_expr, decimals) -%}
    printf('%.{{ decimals }}f', {{ number_expr }})
{%- endmacro %}

{#- tp_is_nan(number_expr): true for a floating-point NaN. -#}
{% macro tp_is_nan(number_expr) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_is_nan', 'trainplan')(number_expr)) }}{%- endif -%}
    {{- return(default__tp_is_nan(number_expr)) -}}
{% endmacro %}
{% macro default__tp_is_nan(number_expr) -%}
    isnan({{ number_expr }})
{%- endmacro %}

{#- tp_regexp_matches(text_expr, pattern_expr): true when the pattern matches anywhere (case-insensitive). -#}
{% macro tp_regexp_matches(text_expr, pattern_expr) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_regexp_matches', 'trainplan')(text_expr, pattern_expr)) }}{%- endif -%}
    {{- return(default__tp_regexp_matches(text_expr, pattern_expr)) -}}
{% endmacro %}
{% macro default__tp_regexp_matches(text_expr, pattern_expr) -%}
    regexp_matches({{ text_expr }}, '(?i)' || {{ pattern_expr }})
{%- endmacro %}

{#- tp_regexp_group(text_expr, pattern_expr): the first capture group of the first match (case-insensitive). -#}
{% macro tp_regexp_group(text_expr, pattern_expr) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_regexp_group', 'trainplan')(text_expr, pattern_expr)) }}{%- endif -%}
    {{- return(default__tp_regexp_group(text_expr, pattern_expr)) -}}
{% endmacro %}
{% macro default__tp_regexp_group(text_expr, pattern_expr) -%}
    regexp_extract({{ text_expr }}, '(?i)' || {{ pattern_expr }}, 1)
{%- endmacro %}

{#- tp_raise(message_expr): fails the query with the message (used by data tests that must name what failed). -#}
{% macro tp_raise(message_expr) %}
    {%- if adapter is defined -%}{{ return(adapter.dispatch('tp_raise', 'trainplan')(message_expr)) }}{%- endif -%}
    {{- return(default__tp_raise(message_expr)) -}}
{% endmacro %}
{% macro default__tp_raise(message_expr) -%}
    error({{ message_expr }})
{%- endmacro %}
