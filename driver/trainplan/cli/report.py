"""`trainplan report`: one self-contained HTML page of a plan's decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trainplan.cli.app import app
from trainplan.cli.options import DbOption
from trainplan.config.settings import make_settings
from trainplan.report.build import plan_or_last, write_report


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
) -> None:
    """Write one HTML file (opens offline) with the plan's routes, margins, stability, leakage and rejects."""
    settings = make_settings(db_path=db, latest_db=True)
    result = write_report(plan_or_last(plan, settings.state_dir), settings.db_path, previous=previous, out=out)
    Console().print(f"report: {result.path} ({result.size / 1e6:.1f} MB, {result.charts} charts)", soft_wrap=True)
