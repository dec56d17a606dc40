"""Read-only access to the DuckDB file that dbt built."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from trainplan.errors import TrainplanError


class DatabaseMissing(TrainplanError, FileNotFoundError):
    """No database yet: refresh first."""


@contextmanager
def read_only(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not db_path.is_file():
        raise DatabaseMissing(f"no trainplan database at {db_path}; run `trainplan refresh` first")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def relation_columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """Column names of a table or view of the main schema (empty if it does not exist)."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = 'main' and table_name = ?", [name]
    ).fetchall()
    return {r[0] for r in rows}


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The first column of the first row of a query."""
    return con.execute(sql).fetchone()[0]
