"""trainplan's SQL functions, written in Python, registered on a DuckDB connection.

Registered on dbt's connection by the dbt-duckdb plugin (`trainplan.warehouse.dbt_plugin`, profiles.yml `plugins`)
and on the connection where `trainplan train` re-runs the compiled SQL of the run's listing and file hashes
(`trainplan.train.stale`). Each takes a path (VARCHAR) and works on a whole Arrow column at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb
import pyarrow as pa

from trainplan.warehouse import file_bytes, file_hashes, run_listing

# DuckDB's words before the message of an error these functions raise on purpose (OSError, or its subclass
# RunListingError: a file or folder that cannot be read, listed or followed); the message after them names the file
# and the reason. Any other exception there is a bug and keeps DuckDB's words and its class.
_PURPOSEFUL_ERROR_PREFIX = re.compile(
    r"Invalid Input Error: Python exception occurred while executing the UDF: (?:OSError|RunListingError): "
)


def without_duckdb_prefix(message: str) -> str:
    """`message` (one line of a DuckDB error) without DuckDB's words before an error these functions raised on
    purpose: "Invalid Input Error: Python exception occurred while executing the UDF: OSError: <path>: cannot be
    read (...)" becomes "<path>: cannot be read (...)"."""
    return _PURPOSEFUL_ERROR_PREFIX.sub("", message)


def _register(
    con: duckdb.DuckDBPyConnection, name: str, function: Callable[[pa.Array], pa.Array], returns: duckdb.DuckDBPyType
) -> None:
    known = con.execute("select count(*) from duckdb_functions() where function_name = ?", [name]).fetchone()
    if known and known[0]:  # registered on this database already (a cursor shares its connection's catalog)
        return
    con.create_function(name, function, [duckdb.sqltype("VARCHAR")], returns, type="arrow")


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """`tp_run_files` (the run's listing), `tp_file_bytes` (a listed file's bytes) and `tp_file_sha256` (its
    SHA-256) on `con`; a second call on the same database is a no-op."""
    _register(con, run_listing.FUNCTION, run_listing.run_files, duckdb.list_type(duckdb.sqltype("VARCHAR")))
    _register(con, file_bytes.FUNCTION, file_bytes.file_bytes, duckdb.sqltype("BLOB"))
    _register(con, file_hashes.FUNCTION, file_hashes.file_sha256, duckdb.sqltype("VARCHAR"))
