"""trainplan's SQL functions, written in Python, registered on a DuckDB connection.

Registered on dbt's connection by the dbt-duckdb plugin (`trainplan.warehouse.dbt_plugin`, profiles.yml `plugins`)
and on the connection where `trainplan train` re-runs the compiled SQL of the run's listing and file hashes
(`trainplan.train.stale`).
"""

from __future__ import annotations

import duckdb

from trainplan.warehouse import file_hashes, run_listing


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """`tp_run_files` (the run's listing) and `tp_file_sha256` (each file's SHA-256) on `con`; idempotent."""
    run_listing.register(con)
    file_hashes.register(con)
