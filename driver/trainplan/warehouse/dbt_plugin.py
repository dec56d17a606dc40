"""A dbt-duckdb plugin (profiles.yml `plugins`): registers trainplan's SQL functions on dbt's DuckDB connection.

The functions (`trainplan.warehouse.functions`): `tp_run_files`, which `stg_foxml__run_files` lists the run with,
`tp_file_bytes`, which the staging models read the listed files with, and `tp_file_sha256`, which
`stg_plan__input_files` hashes them with.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from trainplan.warehouse.functions import register_functions


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register_functions(conn)
