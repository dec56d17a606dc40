"""The warehouse: runs `dbt build` in a child process into a fresh DuckDB file and opens it read-only.
Reads the dbt project and the run's raw files (through dbt); writes the DuckDB file; reports rejected inputs."""
