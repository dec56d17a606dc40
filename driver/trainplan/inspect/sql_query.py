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


def run_query(db_path: Path, sql: str, limit: int, setup: Sequence[str] = ()) -> QueryResult:
    with read_only(db_path) as con:
        for statement in setup:
            con.execute(statement)
        try:
            cur = con.execute(sql)
            if cur.description is None:
                return QueryResult([], [], False)
            rows = cur.fetchmany(limit + 1)
        except duckdb.Error as err:
            text = str(err)
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
