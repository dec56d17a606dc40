"""The previous plan's routes, for "what changed": read by `trainplan.plan.previous` (one target or one job at a
time) into a temporary DuckDB table."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from trainplan.plan.previous import PreviousPlanError, read_previous_lanes
from trainplan.report.sources import ReportInputError

PREVIOUS_ROUTES = "report_previous_routes"


def load_previous_routes(con: duckdb.DuckDBPyConnection, previous: Path) -> str:
    """Put the previous plan's routes in the temporary table `report_previous_routes(target, symbol, route)`.

    From its routing_plan.json (every pair, and the CS row with symbol null and the CS lane's state as route) when
    the policy wrote one; else from its jobs (symbol jobs, and the CS job). Returns the basis ("pairs" or "jobs").
    """
    try:
        lanes, basis = read_previous_lanes(previous)
    except PreviousPlanError as err:
        raise ReportInputError(str(err)) from err
    rows = [(lane.target, lane.symbol, lane.state if lane.symbol is None and basis == "pairs" else lane.route)
            for lane in lanes]  # fmt: skip
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    routes = pa.table(
        {name: pa.array(col, pa.string()) for name, col in zip(("target", "symbol", "route"), columns, strict=True)}
    )
    con.register("report_previous_routes_arrow", routes)
    con.execute(f"create or replace temp table {PREVIOUS_ROUTES} as select * from report_previous_routes_arrow")
    con.unregister("report_previous_routes_arrow")
    return basis
