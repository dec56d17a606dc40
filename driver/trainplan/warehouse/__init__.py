"""The warehouse: `dbt build` (with trainplan's SQL functions, a dbt-duckdb plugin) into a fresh DuckDB file.
Reads the dbt project and the run's raw files (via dbt); writes the DuckDB file, then reads rejects and hysteresis."""
