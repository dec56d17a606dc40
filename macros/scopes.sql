-- noqa: disable=LT02,LT05
-- (this file holds only Jinja macros: sqlfluff checks the indentation of the template source, which renders to nothing)
{#-
    same_scope(left, right): the join condition of two relations keyed by scope — (target, symbol), where a null
    symbol is the target's cross-sectional scope, so two nulls match (docs/decision-semantics.md, "Rows and
    lanes"). A plain `=` on symbol would silently drop every cross-sectional row.
-#}
{% macro same_scope(left, right) -%}
    {{ left }}.target = {{ right }}.target and {{ left }}.symbol is not distinct from {{ right }}.symbol
{%- endmacro %}
