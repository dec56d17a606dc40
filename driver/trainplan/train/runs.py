"""`trainplan runs`: the runs of a job ledger with their jobs per status, or one run's jobs.

Reads the ledger through the same SQL views `trainplan sql` offers (`trainplan.train.ledger_sql`), on an in-memory
DuckDB, so "the latest attempt of a job" means the same thing everywhere. A run whose last session has no end
record is `running` when its `train` still holds the ledger lock, else `open` (it was killed: `--resume` it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trainplan.config.project import project_dir, state_dir
from trainplan.config.settings import last_refresh
from trainplan.train import ledger as L
from trainplan.train.ledger_sql import ledger_views
from trainplan.train.lock import current_holder
from trainplan.train.pin import locate_plan

METRICS_WIDTH = 60


@dataclass(frozen=True)
class RunsOptions:
    run_id: str | None = None
    ledger: Path | None = None
    plan: Path | None = None
    limit: int = 1000


def ledger_dir_for(ledger: Path | None, plan: Path | None) -> Path | None:
    """`--ledger`, else the default ledger of `--plan`, else of the last refresh's plan root (None: unknown)."""
    if ledger is not None:
        return ledger.absolute()
    if plan is not None:
        return L.default_ledger_dir(locate_plan(plan).globals_dir)
    last = last_refresh(state_dir(project_dir()))
    return L.ledger_dir_of_root(last[1]) if last else None


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    cur = con.execute(sql, params or [])
    return [d[0] for d in cur.description], cur.fetchall()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _metrics(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(json.loads(value), separators=(",", ":")) if isinstance(value, str) else str(value)
    return text if len(text) <= METRICS_WIDTH else text[: METRICS_WIDTH - 1] + "…"


def print_runs(options: RunsOptions, console: Console) -> None:
    ledger_dir = ledger_dir_for(options.ledger, options.plan)
    if ledger_dir is None or not L.run_files(ledger_dir):
        where = ledger_dir or "(no --ledger, no --plan and no refresh yet)"
        console.print(f"no training runs in {where}", soft_wrap=True, highlight=False)
        return
    con = duckdb.connect()
    try:
        for statement in ledger_views(ledger_dir):
            con.execute(statement)
        if options.run_id is None:
            _print_run_list(con, ledger_dir, options.limit, console)
        else:
            _print_run_jobs(con, ledger_dir, options.run_id, options.limit, console)
    finally:
        con.close()
    _print_torn(ledger_dir, options.run_id, console)


def _print_torn(ledger_dir: Path, run_id: str | None, console: Console) -> None:
    """A note per run file holding torn records: they are skipped, never silently."""
    for path in L.run_files(ledger_dir):
        if run_id is not None and path.name != f"{run_id}{L.RUN_SUFFIX}":
            continue
        torn: list[int] = []
        for _ in L.read_records(path, torn):
            pass
        if torn:
            lines = ", ".join(str(n) for n in torn[:10]) + (" ..." if len(torn) > 10 else "")
            console.print(
                f"note: ledger {path}: {len(torn)} torn record(s) skipped (line {lines}; written when a run was "
                "killed or its disk was full); an attempt whose end record was torn runs again on --resume",
                soft_wrap=True,
                highlight=False,
                markup=False,
            )


def _print_run_list(con: duckdb.DuckDBPyConnection, ledger_dir: Path, limit: int, console: Console) -> None:
    holder = current_holder(ledger_dir)
    columns = ["run_id", "plan_id", "started_at", "outcome", "sessions", "jobs_selected", *L.STATUSES]
    _, rows = _rows(
        con,
        f"select {', '.join(columns)} from training_runs order by started_at desc, run_id desc limit ?",
        [limit],
    )
    table = Table(title=f"training runs in {ledger_dir}")
    for name in columns:
        numeric = name in (*L.STATUSES, "sessions", "jobs_selected")
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        if values["outcome"] == "open":
            values["outcome"] = (
                "running" if holder is not None and holder.run_id == values["run_id"] else "open (killed?)"
            )
        table.add_row(*(escape(_text(values[c])) for c in columns))
    console.print(table)
    console.print(f"{len(rows)} runs")


def _print_run_jobs(
    con: duckdb.DuckDBPyConnection, ledger_dir: Path, run_id: str, limit: int, console: Console
) -> None:
    _, found = _rows(con, "select count(*) from training_runs where run_id = ?", [run_id])
    if not found[0][0]:
        raise L.LedgerError(f"no run {run_id} in the ledger {ledger_dir} (`trainplan runs` lists them)")
    columns = ["job_id", "route", "status", "attempts", "duration_s", "exit_code", "metrics", "error"]
    _, rows = _rows(
        con,
        f"select {', '.join(columns)} from training_job_status where run_id = ? order by priority desc, seq limit ?",
        [run_id, limit],
    )
    _, counts = _rows(
        con,
        "select status, count(*) from training_job_status where run_id = ? group by status order by status",
        [run_id],
    )
    table = Table(title=f"run {run_id}")
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        values["metrics"] = _metrics(values["metrics"])
        table.add_row(*(escape(_text(values[c])) for c in columns))
    console.print(table)
    console.print(", ".join(f"{status}: {n}" for status, n in counts), highlight=False)
