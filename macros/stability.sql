{#-
    discordant_pair_counts(relation, partition_by, order_by, value): a select that returns, per partition of
    `relation`, `n_items` (rows) and `n_discordant` (pairs of rows whose `order_by` and `value` disagree in order).
    Both columns must be unique within a partition (rank positions), so there are no ties and
    n_discordant = the inversions of `value` read in `order_by` order; Kendall's tau-b is then
    1 - 4 * n_discordant / (n_items * (n_items - 1)).
    A self-join over row pairs is quadratic per partition; adapters implement it in O(n log n) instead.
    The dispatchers below fall back to the DuckDB form when there is no adapter (sqlfluff renders without one).
-#}
{% macro discordant_pair_counts(relation, partition_by, order_by, value) %}
    {%- set impl = adapter.dispatch('discordant_pair_counts') if adapter is defined else duckdb__discordant_pair_counts -%}
    {{- return(impl(relation, partition_by, order_by, value)) -}}
{% endmacro %}

{% macro default__discordant_pair_counts(relation, partition_by, order_by, value) %}
    {{- exceptions.raise_compiler_error(
        "discordant_pair_counts: no implementation for the " ~ adapter.type() ~ " adapter; add "
        ~ adapter.type() ~ "__discordant_pair_counts (count, per row, the preceding rows with a greater value)"
    ) -}}
{% endmacro %}

{#-
    DuckDB: for each row, the rows up to it in `order_by` order form the frame; rank(order by value) over that frame
    is 1 + the preceding rows with a smaller value (DuckDB evaluates framed secondary-order ranks with a merge sort
    tree), so frame size - rank = the preceding rows with a greater value. Summed per partition: the inversions.
-#}
{% macro duckdb__discordant_pair_counts(relation, partition_by, order_by, value) %}
    {%- set keys = partition_by | join(', ') %}
    select
        {{ keys }},
        count(*) as n_items,
        cast(sum(n_preceding - value_rank) as bigint) as n_discordant
    from (
        select
            {{ keys }},
            count(*) over preceding_rows as n_preceding,
            rank(order by {{ value }}) over preceding_rows as value_rank
        from {{ relation }}
        window preceding_rows as (
            partition by {{ keys }}
            order by {{ order_by }}
            rows between unbounded preceding and current row
        )
    ) as ranked
    group by {{ keys }}
{% endmacro %}

{#-
    list_elements(list_column, element_name, position_name): select-list expressions that expand a list column
    into one row per element, with its 1-based position. Use in the select list of a query whose other columns
    are plain columns of the same row.
-#}
{% macro list_elements(list_column, element_name, position_name) %}
    {%- set impl = adapter.dispatch('list_elements') if adapter is defined else duckdb__list_elements -%}
    {{- return(impl(list_column, element_name, position_name)) -}}
{% endmacro %}

{% macro default__list_elements(list_column, element_name, position_name) %}
    {{- exceptions.raise_compiler_error(
        "list_elements: no implementation for the " ~ adapter.type() ~ " adapter; add "
        ~ adapter.type() ~ "__list_elements (one row per list element and its 1-based position)"
    ) -}}
{% endmacro %}

{#- DuckDB: unnest and generate_subscripts in one select list expand in step (a lateral join is far slower). -#}
{% macro duckdb__list_elements(list_column, element_name, position_name) %}
    unnest({{ list_column }}) as {{ element_name }},
    generate_subscripts({{ list_column }}, 1) as {{ position_name }}
{%- endmacro %}

{#-
    list_first_occurrences(list_column): the list without null elements and without repeated elements (each kept at
    its first occurrence), order preserved.
-#}
{% macro list_first_occurrences(list_column) %}
    {%- set impl = adapter.dispatch('list_first_occurrences') if adapter is defined else duckdb__list_first_occurrences -%}
    {{- return(impl(list_column)) -}}
{% endmacro %}

{% macro default__list_first_occurrences(list_column) %}
    {{- exceptions.raise_compiler_error(
        "list_first_occurrences: no implementation for the " ~ adapter.type() ~ " adapter"
    ) -}}
{% endmacro %}

{#- DuckDB: list_unique (distinct non-null count) detects the rare list that needs the quadratic filter. -#}
{% macro duckdb__list_first_occurrences(list_column) %}
    case
        when list_unique({{ list_column }}) = len({{ list_column }}) then {{ list_column }}
        else list_filter({{ list_column }}, (x, i) -> x is not null and list_position({{ list_column }}, x) = i)
    end
{%- endmacro %}

{#- list_head_intersection_size(a, a_length, b, b_length): elements common to the first a_length of list a and the
    first b_length of list b; both lists without nulls or repeats. -#}
{% macro list_head_intersection_size(a, a_length, b, b_length) %}
    {%- set impl = adapter.dispatch('list_head_intersection_size') if adapter is defined else duckdb__list_head_intersection_size -%}
    {{- return(impl(a, a_length, b, b_length)) -}}
{% endmacro %}

{% macro default__list_head_intersection_size(a, a_length, b, b_length) %}
    {{- exceptions.raise_compiler_error(
        "list_head_intersection_size: no implementation for the " ~ adapter.type() ~ " adapter"
    ) -}}
{% endmacro %}

{% macro duckdb__list_head_intersection_size(a, a_length, b, b_length) %}
    len(list_intersect(list_slice({{ a }}, 1, {{ a_length }}), list_slice({{ b }}, 1, {{ b_length }})))
{%- endmacro %}

{#- list_head_distinct_count(list_column, k): distinct non-null elements among the first k of the list. -#}
{% macro list_head_distinct_count(list_column, k) %}
    {%- set impl = adapter.dispatch('list_head_distinct_count') if adapter is defined else duckdb__list_head_distinct_count -%}
    {{- return(impl(list_column, k)) -}}
{% endmacro %}

{% macro default__list_head_distinct_count(list_column, k) %}
    {{- exceptions.raise_compiler_error(
        "list_head_distinct_count: no implementation for the " ~ adapter.type() ~ " adapter"
    ) -}}
{% endmacro %}

{% macro duckdb__list_head_distinct_count(list_column, k) %}
    list_unique(list_slice({{ list_column }}, 1, {{ k }}))
{%- endmacro %}
