"""The closing summary of a refresh: routes and jobs, as counted by the database."""

from __future__ import annotations

import duckdb
from rich.console import Console
from rich.table import Table

ROUTES = [
    "ROUTE_CROSS_SECTIONAL",
    "ROUTE_SYMBOL_SPECIFIC",
    "ROUTE_BOTH",
    "ROUTE_EXPERIMENTAL_ONLY",
    "ROUTE_BLOCKED",
]


def route_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """(route, symbol decisions, jobs) for every route, zeros included."""
    decisions = dict(
        con.execute("select route, count(*) from routing_decisions where symbol is not null group by route").fetchall()
    )
    jobs = dict(con.execute("select route, count(*) from training_jobs group by route").fetchall())
    return [(r, int(decisions.get(r, 0)), int(jobs.get(r, 0))) for r in ROUTES]


def print_summary(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    targets, cs_enabled = con.execute(
        "select count(*), count(*) filter (where route = 'ROUTE_CROSS_SECTIONAL') "
        "from routing_decisions where symbol is null"
    ).fetchone()
    table = Table(title="Routing decisions and training jobs")
    table.add_column("route")
    table.add_column("symbol decisions", justify="right")
    table.add_column("jobs", justify="right")
    for route, n_decisions, n_jobs in route_counts(con):
        table.add_row(route, str(n_decisions), str(n_jobs))
    console.print(table)
    total_jobs = con.execute("select count(*) from training_jobs").fetchone()[0]
    console.print(f"targets: {targets} (cross-sectional enabled: {cs_enabled}); jobs: {total_jobs}")
