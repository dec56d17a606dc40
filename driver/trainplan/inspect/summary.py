"""The closing summary of a refresh: routes and jobs, as counted by the database."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from trainplan.plan.routes import route_names
from trainplan.warehouse.hysteresis import hysteresis_counts, hysteresis_setting
from trainplan.warehouse.rejects import fetch_rejects

REJECTS_SHOWN = 20


def route_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """(route, symbol decisions, jobs) for every route, zeros included."""
    decisions = dict(
        con.execute("select route, count(*) from routing_decisions where symbol is not null group by route").fetchall()
    )
    jobs = dict(con.execute("select route, count(*) from training_jobs group by route").fetchall())
    return [(r, int(decisions.get(r, 0)), int(jobs.get(r, 0))) for r in route_names()]


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


def print_hysteresis(con: duckdb.DuckDBPyConnection, console: Console, previous: Path | None) -> None:
    """What route hysteresis did in this build (nothing is printed while it is off), or that foxml ignores it."""
    enabled, semantics = hysteresis_setting(con)
    if enabled and semantics != "strict":
        console.print(f"note: hysteresis is ignored under semantics: {semantics} (it applies to strict only)")
        return
    if not enabled:
        return
    counts = hysteresis_counts(con)
    source = f"previous plan {previous}" if previous is not None else "no previous plan (first run)"
    console.print(
        f"hysteresis: {source}; {counts.decisions_with_previous_route} decisions had a previous route; "
        f"lanes held {counts.lanes_held}; route flips prevented {counts.flips_prevented}",
        soft_wrap=True,
    )


def plan_totals(plan: dict) -> dict:
    """Totals of a written plan: jobs by route, type, priority and target (in the plan's order)."""
    totals: dict[str, dict[str, int]] = {"route": {}, "training_type": {}, "priority": {}, "target": {}}
    for job in plan.get("jobs") or []:
        for key, counts in totals.items():
            value = str(job.get(key))
            counts[value] = counts.get(value, 0) + 1
    return totals


def print_plan_summary(plan: dict, console: Console) -> None:
    meta = plan.get("metadata") or {}
    console.print(
        f"plan {meta.get('plan_id', '?')} generated {meta.get('generated_at', '?')} (run {meta.get('run_id', '?')}, "
        f"commit {meta.get('git_commit', '?')}, config {meta.get('config_hash', '?')})"
    )
    totals = plan_totals(plan)
    for key, title in (("route", "jobs by route"), ("training_type", "jobs by type"), ("priority", "jobs by priority")):
        table = Table(title=title)
        table.add_column(key)
        table.add_column("jobs", justify="right")
        for value, n in totals[key].items():
            table.add_row(value, str(n))
        console.print(table)
    targets = totals["target"]
    console.print(f"targets with jobs: {len(targets)}; jobs: {sum(targets.values())}")
    hysteresis = (plan.get("summary") or {}).get("hysteresis")
    if hysteresis is not None:
        console.print(
            f"hysteresis: route flips prevented {hysteresis.get('flips_prevented')}, lanes held "
            f"{hysteresis.get('lanes_held')}, decisions with a previous route "
            f"{hysteresis.get('decisions_with_previous_route')}"
        )


def print_rejects(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    """The count of rejected inputs and the first few, each naming its file, problem and what was expected."""
    rejects = fetch_rejects(con)
    console.print(f"rejected inputs: {len(rejects)}" + (" (see table rejected_inputs)" if rejects else ""))
    for reject in rejects[:REJECTS_SHOWN]:
        console.print(f"  - {reject.describe()}", soft_wrap=True, markup=False)
    if len(rejects) > REJECTS_SHOWN:
        console.print(f"  ... and {len(rejects) - REJECTS_SHOWN} more")
