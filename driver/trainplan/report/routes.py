"""Section 2's numbers: routes per target, and the target x symbol route matrix (symbols share a cell past the
limits in `limits.py`). Reads `routing_decisions`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb

from trainplan.plan.routes import route_names
from trainplan.report.limits import HEATMAP_MAX_CELLS, HEATMAP_MAX_COLUMNS
from trainplan.report.sql import ident, literal
from trainplan.report.tables import Table, table


def _route_counts(routes: list[str]) -> str:
    return ", ".join(f"count(*) filter (where route = {literal(r)}) as {ident(r)}" for r in routes)


def routes_per_target(con: duckdb.DuckDBPyConnection) -> Table:
    """Per target: its CS lane state, the number of symbol pairs on each route, and all its symbol pairs."""
    routes = route_names()
    rows = con.execute(f"""
        with targets as (select distinct target from routing_decisions),
        cs as (select target, any_value(cs_state) as cs_state from routing_decisions where symbol is null group by 1),
        pairs as (
            select target, {_route_counts(routes)}, count(*) as pairs
            from routing_decisions where symbol is not null group by target
        )
        select targets.target, cs.cs_state, {", ".join(f"coalesce(pairs.{ident(r)}, 0)" for r in routes)},
            coalesce(pairs.pairs, 0)
        from targets left join cs using (target) left join pairs using (target)
        order by targets.target
    """).fetchall()
    return table("Symbol pairs per route and target", ["target", "CS lane", *routes, "pairs"], rows)


@dataclass(frozen=True)
class RouteMatrix:
    """The heat map's cells: `bucket` neighbouring symbols (alphabetical) per cell, 1 when every pair has its own."""

    table: Table
    bucket: int
    n_targets: int
    n_symbols: int

    @property
    def note(self) -> str | None:
        if self.bucket == 1:
            return None
        return (
            f"{self.n_symbols:,} symbols x {self.n_targets:,} targets: each cell holds {self.bucket:,} neighbouring "
            "symbols (alphabetical); colour = the most frequent route, paler = a smaller share"
        )


def matrix_bucket(n_targets: int, n_symbols: int) -> int:
    """Symbols per cell: 1 while the matrix fits the limits, else the fewest that make it fit."""
    columns = max(1, min(HEATMAP_MAX_COLUMNS, HEATMAP_MAX_CELLS // max(1, n_targets)))
    return max(1, math.ceil(n_symbols / columns))


def route_matrix(con: duckdb.DuckDBPyConnection) -> RouteMatrix:
    routes = route_names()
    n_targets, n_symbols = con.execute(
        "select count(distinct target), count(distinct symbol) from routing_decisions where symbol is not null"
    ).fetchone()
    bucket = matrix_bucket(n_targets, n_symbols)
    rows = con.execute(
        f"""
        with pairs as (select target, symbol, route from routing_decisions where symbol is not null),
        symbols as (select symbol, row_number() over (order by symbol) - 1 as pos from (select distinct symbol from pairs))
        select pairs.target, symbols.pos // ? as cell, min(pairs.symbol), max(pairs.symbol), count(*),
            {_route_counts(routes)}
        from pairs join symbols using (symbol)
        group by all order by 1, 2
        """,
        [bucket],
    ).fetchall()
    out = []
    for target, cell, first, last, n, *counts in rows:
        best = max(range(len(routes)), key=lambda i: (counts[i], -i))
        label = first if bucket == 1 else f"{first} … {last}"
        out.append((target, cell, label, n, routes[best], round(counts[best] / n, 4), *counts))
    columns = ["target", "cell", "symbols", "pairs", "most frequent route", "share", *routes]
    return RouteMatrix(table("Route of each target x symbol cell", columns, out), bucket, n_targets, n_symbols)
