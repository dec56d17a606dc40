{#-
    ref(): dbt's ref without the database (catalog) part, so a view reads `main.<model>`, not
    `<file name>.main.<model>`. DuckDB resolves such a name in the view's own catalog, so the database file keeps
    working when it is copied, renamed or attached under another name.
    (`builtins` is dbt's; the linter's templater has none and gets the model name.)
-#}
{% macro ref() %}
    {%- if builtins is defined -%}
        {%- set relation = builtins.ref(*varargs, **kwargs) -%}
        {{ return(relation.include(database=False)) }}
    {%- else -%}
        {{ return(varargs | last) }}
    {%- endif -%}
{% endmacro %}
