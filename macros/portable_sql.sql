{#- is_finite(expr): true when a double is neither NaN nor infinite (adapter.dispatch; DuckDB has isfinite).
    Outside dbt (the sqlfluff templater has no adapter) it renders the DuckDB form. -#}
{% macro is_finite(expr) %}
    {%- if adapter is defined -%}
        {{- return(adapter.dispatch('is_finite')(expr)) -}}
    {%- endif -%}
    {{- return(duckdb__is_finite(expr)) -}}
{% endmacro %}

{% macro default__is_finite(expr) %}
    {{- return("(" ~ expr ~ " between -1.7976931348623157e308 and 1.7976931348623157e308)") -}}
{% endmacro %}

{% macro duckdb__is_finite(expr) %}
    {{- return("isfinite(" ~ expr ~ ")") -}}
{% endmacro %}
