"""`trainplan summary`, `explain`, `diff`, `validate` and `sql`: read a plan or the database, change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from trainplan.cli.app import app, make_console
from trainplan.cli.options import DbOption, LedgerOption, PlanArgument
from trainplan.config.settings import make_settings
from trainplan.inspect.explain import explain, print_explanation
from trainplan.inspect.sql_query import print_result, run_query
from trainplan.inspect.summary import print_plan_summary, print_summary
from trainplan.plan.diff import diff_plans, print_diff
from trainplan.plan.files import load_training_plan
from trainplan.plan.validate import validate_written_plan
from trainplan.train.ledger_sql import ledger_views
from trainplan.train.runs import ledger_dir_for
from trainplan.warehouse.database import read_only


@app.command(name="summary")
def summary_cmd(
    plan: Annotated[Path | None, typer.Argument(help="A plan (file, training_plan folder or output root).")] = None,
    db: DbOption = None,
) -> None:
    """Totals by route, type, priority and target: of a written plan, or of the database without PLAN."""
    console = make_console()
    if plan is not None:
        print_plan_summary(load_training_plan(plan), console)
        return
    with read_only(make_settings(db_path=db, latest_db=True).db_path) as con:
        print_summary(con, console)


@app.command(name="explain")
def explain_cmd(
    target: Annotated[str, typer.Argument(help="Target name.")],
    symbol: Annotated[
        str | None, typer.Argument(help="Symbol (omit for the target's cross-sectional decision).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Every rule evaluated for a pair (or a target's CS lane), its evidence and the decided route. Exit 1: unknown."""
    console = make_console()
    with read_only(make_settings(db_path=db, latest_db=True).db_path) as con:
        found = explain(con, target, symbol)
    if found is None:
        scope = f"({target}, {symbol})" if symbol is not None else f"target {target}"
        console.print(f"[bold red]unknown:[/] no decision for {escape(scope)} in the database", soft_wrap=True)
        raise typer.Exit(code=1)
    print_explanation(found, console)


@app.command(name="diff")
def diff_cmd(
    plan_a: Annotated[Path, typer.Argument(help="The older plan.")],
    plan_b: Annotated[Path, typer.Argument(help="The newer plan.")],
) -> None:
    """Added, removed and changed jobs and route changes. Exit 0 when the jobs are equal, 1 when they differ."""
    result = diff_plans(load_training_plan(plan_a), load_training_plan(plan_b))
    print_diff(result, make_console())
    if result.differs:
        raise typer.Exit(code=1)


@app.command(name="validate")
def validate_cmd(plan: PlanArgument) -> None:
    """Schema and semantic checks of a written plan; exit 1 listing every problem."""
    console = make_console()
    problems = validate_written_plan(plan)
    for problem in problems:
        console.print(f"[red]problem:[/] {escape(problem)}", soft_wrap=True)
    if problems:
        console.print(f"{len(problems)} problems")
        raise typer.Exit(code=1)
    console.print("plan is valid")


@app.command(name="sql")
def sql_cmd(
    query: Annotated[str, typer.Argument(help="SQL to run on the database (read-only).")],
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to print at most.")] = 1000,
    ledger: LedgerOption = None,
) -> None:
    """Run a read-only query on the database and print the result as a table.

    The job ledger is there too, as training_runs, training_attempts, training_job_status and training_events.
    """
    ledger_dir = ledger_dir_for(ledger, None)
    setup = ledger_views(ledger_dir)
    readable = [ledger_dir] if ledger_dir is not None and ledger_dir.is_dir() else []
    db_path = make_settings(db_path=db, latest_db=True).db_path
    print_result(run_query(db_path, query, limit, setup=setup, readable=readable), make_console())
