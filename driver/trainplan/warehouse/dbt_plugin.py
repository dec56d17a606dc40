"""A dbt-duckdb plugin (profiles.yml `plugins`): registers trainplan's SQL functions on dbt's DuckDB connection.

Today one function, `tp_file_sha256` (`trainplan.warehouse.file_hashes`), which `stg_plan__input_files` calls.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from trainplan.warehouse import file_hashes


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        file_hashes.register(conn)
