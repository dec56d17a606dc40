"""`trainplan sql`: a query on the database, opened read-only, printed as a table.

The caller may pass setup statements run first on the same connection (the CLI passes the job ledger's temp
views, `trainplan.train.ledger_sql`, so the ledger joins with the database's relations); temp objects need no
write access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from trainplan.errors import TrainplanError
from trainplan.warehouse.database import read_only


class QueryFailed(TrainplanError):
    """The query failed (syntax, unknown relation, or a write on the read-only database)."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


READ_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})


def _one_read_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as err:
        raise QueryFailed(str(err)) from err
    if len(statements) != 1:
        raise QueryFailed(f"expected exactly one SQL statement, got {len(statements)}")
    if statements[0].type not in READ_STATEMENTS:
        raise QueryFailed(
            f"expected a read-only query (SELECT, WITH ... SELECT, EXPLAIN); got a {statements[0].type.name} statement"
        )


def _sandbox(con: duckdb.DuckDBPyConnection, readable: Sequence[Path]) -> None:
    """No file access beyond the attached database (and the `readable` folders), and no way to change that."""
    folders = ", ".join("'" + str(p).replace("'", "''") + "'" for p in readable)
    con.execute(f"set allowed_directories = [{folders}]")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


def run_query(
    db_path: Path, sql: str, limit: int, *, setup: Sequence[str] = (), readable: Sequence[Path] = ()
) -> QueryResult:
    """One read-only statement on the database. `setup` statements (e.g. temp views over files in the
    `readable` folders) run first; then external access is switched off for good."""
    with read_only(db_path) as con:
        for statement in setup:
            con.execute(statement)
        _sandbox(con, readable)
        _one_read_statement(con, sql)
        try:
            cur = con.execute(sql)
            if cur.description is None:
                return QueryResult([], [], False)
            rows = cur.fetchmany(limit + 1)
        except duckdb.Error as err:
            text = " ".join(str(err).split())  # DuckDB's message and its "LINE 1: ..." pointer, on one line
            if "read-only" in text:
                raise QueryFailed(f"the database is opened read-only; this statement would change it: {text}") from err
            raise QueryFailed(text) from err
        return QueryResult([d[0] for d in cur.description], rows[:limit], len(rows) > limit)


def print_result(result: QueryResult, console: Console) -> None:
    table = Table()
    for name in result.columns:
        table.add_column(name)
    for row in result.rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console.print(table)
    more = " (more rows not shown: raise --limit)" if result.truncated else ""
    console.print(f"{len(result.rows)} rows{more}")
