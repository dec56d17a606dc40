-- noqa: disable=LT02,LT05
-- (this file holds only Jinja macros: sqlfluff checks the indentation of the template source, which renders to nothing)
{#-
    The few functions that are not standard SQL, so that intermediate and mart models stay portable. Each public
    macro dispatches on the adapter (adapter.dispatch, project namespace `trainplan`; dbt needs the macro name
    written out in each call); the DuckDB form is the default, also used when no adapter exists (sqlfluff renders
    the models without one). Another adapter (e.g. spark) only needs its own <adapter>__<name> here.
-#}

{#- tp_list_contains(list_expr, value_expr): true when the array holds the value. -#}
{% macro tp_list_contains(list_expr, value_expr) %}
    {%- set impl = adapter.dispatch('tp_list_contains', 'trainplan') if adapter is defined else default__tp_list_contains -%}
    {{- return(impl(list_expr, value_expr)) -}}
{% endmacro %}
{% macro default__tp_list_contains(list_expr, value_expr) %}list_contains({{ list_expr }}, {{ value_expr }}){% endmacro %}

{#- tp_list_except(list_expr, remove_expr): the array's items that are not in the second array, order kept. -#}
{% macro tp_list_except(list_expr, remove_expr) %}
    {%- set impl = adapter.dispatch('tp_list_except', 'trainplan') if adapter is defined else default__tp_list_except -%}
    {{- return(impl(list_expr, remove_expr)) -}}
{% endmacro %}
{% macro default__tp_list_except(list_expr, remove_expr) -%}
    list_filter({{ list_expr }}, lambda item: not list_contains(coalesce({{ remove_expr }}, []), item))
{%- endmacro %}

{#- tp_string_array(items): an array of varchar built from SQL expressions (a list of strings). -#}
{% macro tp_string_array(items) %}
    {%- set impl = adapter.dispatch('tp_string_array', 'trainplan') if adapter is defined else default__tp_string_array -%}
    {{- return(impl(items)) -}}
{% endmacro %}
{% macro default__tp_string_array(items) %}cast([{{ items | join(', ') }}] as varchar[]){% endmacro %}

{#- tp_array_join(array_expr, separator): the array's items joined into one string. -#}
{% macro tp_array_join(array_expr, separator) %}
    {%- set impl = adapter.dispatch('tp_array_join', 'trainplan') if adapter is defined else default__tp_array_join -%}
    {{- return(impl(array_expr, separator)) -}}
{% endmacro %}
{% macro default__tp_array_join(array_expr, separator) %}array_to_string({{ array_expr }}, {{ separator }}){% endmacro %}

{#- tp_sorted_array_agg(expr): aggregate into an array sorted by the values. -#}
{% macro tp_sorted_array_agg(expr) %}
    {%- set impl = adapter.dispatch('tp_sorted_array_agg', 'trainplan') if adapter is defined else default__tp_sorted_array_agg -%}
    {{- return(impl(expr)) -}}
{% endmacro %}
{% macro default__tp_sorted_array_agg(expr) %}array_agg({{ expr }} order by {{ expr }}){% endmacro %}

{#- tp_format_fixed(number_expr, decimals): the number as text with exactly `decimals` places, like Python's %.Nf. -#}
{% macro tp_format_fixed(number_expr, decimals) %}
    {%- set impl = adapter.dispatch('tp_format_fixed', 'trainplan') if adapter is defined else default__tp_format_fixed -%}
    {{- return(impl(number_expr, decimals)) -}}
{% endmacro %}
{% macro default__tp_format_fixed(number_expr, decimals) %}printf('%.{{ decimals }}f', {{ number_expr }}){% endmacro %}

{#- tp_is_nan(number_expr): true for a floating-point NaN. -#}
{% macro tp_is_nan(number_expr) %}
    {%- set impl = adapter.dispatch('tp_is_nan', 'trainplan') if adapter is defined else default__tp_is_nan -%}
    {{- return(impl(number_expr)) -}}
{% endmacro %}
{% macro default__tp_is_nan(number_expr) %}isnan({{ number_expr }}){% endmacro %}

{#- tp_is_finite(number_expr): true when a double is neither NaN nor infinite. The default is standard SQL. -#}
{% macro tp_is_finite(number_expr) %}
    {%- set impl = adapter.dispatch('tp_is_finite', 'trainplan') if adapter is defined else duckdb__tp_is_finite -%}
    {{- return(impl(number_expr)) -}}
{% endmacro %}
{% macro default__tp_is_finite(number_expr) -%}
    ({{ number_expr }} between -1.7976931348623157e308 and 1.7976931348623157e308)
{%- endmacro %}
{% macro duckdb__tp_is_finite(number_expr) %}isfinite({{ number_expr }}){% endmacro %}

{#- tp_regexp_matches(text_expr, pattern_expr): true when the pattern matches anywhere (case-insensitive). -#}
{% macro tp_regexp_matches(text_expr, pattern_expr) %}
    {%- set impl = adapter.dispatch('tp_regexp_matches', 'trainplan') if adapter is defined else default__tp_regexp_matches -%}
    {{- return(impl(text_expr, pattern_expr)) -}}
{% endmacro %}
{% macro default__tp_regexp_matches(text_expr, pattern_expr) -%}
    regexp_matches({{ text_expr }}, '(?i)' || {{ pattern_expr }})
{%- endmacro %}

{#- tp_regexp_group(text_expr, pattern_expr): the first capture group of the first match (case-insensitive). -#}
{% macro tp_regexp_group(text_expr, pattern_expr) %}
    {%- set impl = adapter.dispatch('tp_regexp_group', 'trainplan') if adapter is defined else default__tp_regexp_group -%}
    {{- return(impl(text_expr, pattern_expr)) -}}
{% endmacro %}
{% macro default__tp_regexp_group(text_expr, pattern_expr) -%}
    regexp_extract({{ text_expr }}, '(?i)' || {{ pattern_expr }}, 1)
{%- endmacro %}

{#- tp_raise(message_expr): fails the query with the message (used by data tests that must name what failed). -#}
{% macro tp_raise(message_expr) %}
    {%- set impl = adapter.dispatch('tp_raise', 'trainplan') if adapter is defined else default__tp_raise -%}
    {{- return(impl(message_expr)) -}}
{% endmacro %}
{% macro default__tp_raise(message_expr) %}error({{ message_expr }}){% endmacro %}
