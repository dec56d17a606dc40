"""trainplan: routing decisions in dbt on DuckDB, and the driver that exports and applies the plan."""
