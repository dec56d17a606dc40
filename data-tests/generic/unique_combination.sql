{#- unique_combination(columns): no two rows share the same values in `columns` (nulls compare equal). -#}
{% test unique_combination(model, columns) %}

with

grouped as (

    select
        {{ columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}

)

select * from grouped
where n_rows > 1

{% endtest %}
