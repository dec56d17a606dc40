"""The previous plan's routes, for "what changed": read by `trainplan.plan.previous` (its lanes sidecar, else one
target or one job at a time from its JSON) into a temporary DuckDB table."""

from __future__ import annotations

from pathlib import Path

import duckdb

from trainplan.plan.previous import PreviousPlanError, previous_lanes_table
from trainplan.report.sources import ReportInputError

PREVIOUS_ROUTES = "report_previous_routes"


def load_previous_routes(con: duckdb.DuckDBPyConnection, previous: Path) -> str:
    """Put the previous plan's routes in the temporary table `report_previous_routes(target, symbol, route)`.

    From its routing_plan.json (every pair, and the CS row with symbol null and the CS lane's state as route) when
    the policy wrote one; else from its jobs (symbol jobs, and the CS job). Returns the basis ("pairs" or "jobs").
    """
    try:
        lanes, basis = previous_lanes_table(previous)
    except PreviousPlanError as err:
        raise ReportInputError(str(err)) from err
    route = "case when symbol is null then state else route end" if basis == "pairs" else "route"
    con.register("report_previous_lanes_arrow", lanes)
    try:
        con.execute(
            f"create or replace temp table {PREVIOUS_ROUTES} as "
            f"select target, symbol, {route} as route from report_previous_lanes_arrow"
        )
    finally:
        con.unregister("report_previous_lanes_arrow")
    return basis
