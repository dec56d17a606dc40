"""`trainplan report`: one self-contained HTML page of a plan's decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import duckdb
import typer

from trainplan.cli.app import app, make_console
from trainplan.cli.options import DbOption, LedgerOption
from trainplan.config.settings import make_settings
from trainplan.plan.files import load_training_plan
from trainplan.report.build import plan_or_last, write_report
from trainplan.report.training import LedgerRelations
from trainplan.train.ledger_sql import ledger_report_sql, ledger_views
from trainplan.train.runs import ledger_dir_for


def ledger_relations(plan: Path, ledger: Path | None = None) -> LedgerRelations | None:
    """The job ledger of `plan` as the report's training section reads it (None: no training run of this plan)."""
    ledger_dir = ledger_dir_for(ledger, plan)
    if ledger_dir is None or not ledger_dir.is_dir():
        return None
    plan_id = str(load_training_plan(plan).get("metadata", {}).get("plan_id"))
    con = duckdb.connect()
    for statement in ledger_views(ledger_dir):
        con.execute(statement)
    progress, durations, metrics = (con.sql(sql) for sql in ledger_report_sql(plan_id))
    if not progress.fetchall():
        return None
    return LedgerRelations(progress=progress, durations=durations, metrics=metrics)


@app.command(name="report")
def report_cmd(
    plan: Annotated[
        Path | None,
        typer.Argument(help="A plan (file, training_plan folder or output root); default: the last refresh's."),
    ] = None,
    db: DbOption = None,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="An earlier plan: the report shows what changed since.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file to write (default: report.html next to the plan).")
    ] = None,
    ledger: LedgerOption = None,
) -> None:
    """Write one HTML file (opens offline) with the plan's routes, margins, stability, leakage and rejects."""
    settings = make_settings(db_path=db, latest_db=True)
    plan_path = plan_or_last(plan, settings.state_dir)
    training = ledger_relations(plan_path, ledger)
    result = write_report(plan_path, settings.db_path, previous=previous, out=out, ledger=training)
    make_console().print(f"report: {result.path} ({result.size / 1e6:.1f} MB, {result.charts} charts)", soft_wrap=True)
