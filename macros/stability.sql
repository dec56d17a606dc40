{#-
    discordant_pair_counts(relation, partition_by, order_by, value, aggregates={}): a select that returns, per
    partition of `relation`, `n_items` (rows), `n_discordant` (pairs of rows whose `order_by` and `value` disagree
    in order) and one column per entry of `aggregates` (name: aggregate expression over the relation's columns).
    Both columns must be unique within a partition (rank positions), so there are no ties and
    n_discordant = the inversions of `value` read in `order_by` order; Kendall's tau-b is then
    1 - 4 * n_discordant / (n_items * (n_items - 1)).
    A self-join over row pairs is quadratic per partition; adapters implement it in O(n log n) instead.
    The dispatchers below fall back to the DuckDB form when there is no adapter (sqlfluff renders without one).
-#}
{% macro discordant_pair_counts(relation, partition_by, order_by, value, aggregates={}) %}
    {%- set impl = adapter.dispatch('discordant_pair_counts') if adapter is defined else duckdb__discordant_pair_counts -%}
    {{- return(impl(relation, partition_by, order_by, value, aggregates)) -}}
{% endmacro %}

{% macro default__discordant_pair_counts(relation, partition_by, order_by, value, aggregates) %}
    {{- exceptions.raise_compiler_error(
        "discordant_pair_counts: no implementation for the " ~ adapter.type() ~ " adapter; add "
        ~ adapter.type() ~ "__discordant_pair_counts (count, per row, the preceding rows with a greater value)"
    ) -}}
{% endmacro %}

{#-
    DuckDB: for each row, the rows up to it in `order_by` order form the frame; rank(order by value) over that frame
    is 1 + the preceding rows with a smaller value (DuckDB evaluates framed secondary-order ranks with a merge sort
    tree). The row at frame position i has i - rank preceding rows with a greater value; summed over a partition of
    n rows that is n (n + 1) / 2 - the sum of the ranks: the inversions.
-#}
{% macro duckdb__discordant_pair_counts(relation, partition_by, order_by, value, aggregates) %}
    {%- set keys = partition_by | join(', ') %}
    {%- set extra_columns = [] %}
    {%- for name, expression in aggregates.items() %}
        {%- do extra_columns.append(expression ~ ' as ' ~ name ~ ',') %}
    {%- endfor %}
    select
        {{ keys }},
        count(*) as n_items,
        {{ extra_columns | join(' ') }}
        cast(count(*) * (count(*) + 1) / 2 - sum(value_rank) as bigint) as n_discordant
    from (
        select
            *,
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
    keys_with_repeated_values(relation, key, value): a select of the `key` values of `relation` that have some
    `value` (a positive integer id) on more than one row.
-#}
{% macro keys_with_repeated_values(relation, key, value) %}
    {%- set impl = adapter.dispatch('keys_with_repeated_values') if adapter is defined else duckdb__keys_with_repeated_values -%}
    {{- return(impl(relation, key, value)) -}}
{% endmacro %}

{% macro default__keys_with_repeated_values(relation, key, value) %}
    select {{ key }}
    from {{ relation }}
    group by {{ key }}
    having count(*) > count(distinct {{ value }})
{% endmacro %}

{#-
    DuckDB: count(distinct) per key builds a hash set per group. Cheaper and exact: per (key, block of 64 ids),
    OR the ids' bits into one 64-bit word; a repeated id sets no new bit, so the key repeats a value exactly when
    its rows outnumber its set bits.
-#}
{% macro duckdb__keys_with_repeated_values(relation, key, value) %}
    select {{ key }}
    from (
        select
            {{ key }},
            count(*) as n_rows,
            bit_count(bit_or(cast(1 as ubigint) << cast({{ value }} % 64 as integer))) as n_distinct
        from {{ relation }}
        group by {{ key }}, {{ value }} // 64
    ) as blocks
    group by {{ key }}
    having sum(n_rows) > sum(n_distinct)
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
