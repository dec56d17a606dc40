"""`trainplan refresh`, `demo` and `export`: build the decisions and write the plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trainplan.cli.app import app, make_console
from trainplan.cli.options import DbOption, PolicyOption, WaitOption
from trainplan.cli.report import ledger_relations
from trainplan.config.settings import Settings, make_settings
from trainplan.export.refresh import demo_settings, export_from_database, refresh
from trainplan.inspect.summary import print_hysteresis, print_rejects, print_summary
from trainplan.report.build import write_report
from trainplan.train.run import TrainOptions, run_training
from trainplan.warehouse.database import read_only

EXAMPLE_TRAINER = Path("examples/trainers/gbm_trainer.py")


def _refresh_and_report(console: Console, settings: Settings, strict: bool = False, wait: float = 0.0) -> None:
    result = refresh(settings, strict=strict, wait=wait)
    errors = make_console(stderr=True)
    for warning in result.warnings:
        errors.print("[yellow]warning:[/] ", end="")
        errors.print(warning, soft_wrap=True, markup=False, highlight=False)
    if result.recovered:
        console.print(f"note: {result.recovered}")
    with read_only(result.db_path) as con:
        print_summary(con, console)
        print_hysteresis(con, console, result.previous_plan)
        print_rejects(con, console)
    console.print(f"plan: {result.master_plan}")
    console.print(f"database: {result.db_path}")


@app.command(name="refresh")
def refresh_cmd(
    run_dir: Annotated[Path | None, typer.Option("--run-dir", help="FoxML run directory to read.")] = None,
    candidates: Annotated[
        Path | None,
        typer.Option(
            "--candidates", help="A ready routing_candidates.parquet (reference format) instead of a run dir."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (keeping the previous plan) when any input is rejected.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder that receives globals/ (default: the run directory).")
    ] = None,
    policy: PolicyOption = None,
    db: DbOption = None,
    wait: WaitOption = 0.0,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="The previous plan route hysteresis starts from (default: the plan published in the output folder).",
        ),
    ] = None,
) -> None:
    """dbt build on a run directory, then export the training plan."""
    settings = make_settings(
        run_dir=run_dir, candidates_file=candidates, out_dir=out, policy_path=policy, db_path=db, previous_plan=previous
    )
    _refresh_and_report(make_console(), settings, strict=strict, wait=wait)


@app.command()
def demo() -> None:
    """Refresh the bundled sample run into .trainplan/demo, train its jobs with the example trainer, write the report."""
    console = make_console()
    settings = demo_settings()
    console.print(f"sample run: {settings.run_dir}")
    _refresh_and_report(console, settings)
    trainer = settings.project / EXAMPLE_TRAINER
    exit_code = 0
    if trainer.is_file():
        console.print(f"training the plan's jobs with the example trainer {EXAMPLE_TRAINER}")
        options = TrainOptions(
            plan=settings.plan_root, trainer=f"{trainer}:train", db=settings.db_path, cwd=settings.project
        )
        exit_code = run_training(options, console).exit_code
    else:
        console.print(f"training skipped: the example trainer ({EXAMPLE_TRAINER}) comes with a trainplan checkout")
    report = write_report(settings.plan_root, settings.db_path, ledger=ledger_relations(settings.plan_root))
    console.print(f"report: {report.path}")
    raise typer.Exit(code=exit_code)


@app.command(name="export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder that receives globals/ (e.g. the run directory).")],
    db: DbOption = None,
    wait: WaitOption = 0.0,
) -> None:
    """Write the routing plan and the training plan from the database (no dbt build)."""
    console = make_console()
    settings = make_settings(db_path=db, out_dir=out, latest_db=True)
    outcome = export_from_database(settings, wait)
    if outcome.recovered:
        console.print(f"note: {outcome.recovered}")
    result = outcome.result
    console.print(f"plan {result.plan_id}: {result.total_jobs} jobs")
    console.print(f"plan: {result.master_plan}")
    console.print(f"routing plan: {result.routing_plan_dir}")
