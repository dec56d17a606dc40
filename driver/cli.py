"""The `trainplan` command line. Commands only parse arguments and call plain functions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape

from driver.broken_sample import generate_broken_run
from driver.database import DatabaseMissing, read_only
from driver.dbt_runner import DbtBuildError
from driver.explain import explain, print_explanation
from driver.export import PlanInvalid, export_plan
from driver.plan_diff import diff_plans, print_diff
from driver.plan_files import PlanNotFound, load_routing_plan, load_training_plan
from driver.plan_validate import validate_plan
from driver.refresh import refresh
from driver.rejects import RejectedInputs, fetch_rejects
from driver.run_dir import NotARunDirectory
from driver.sample import SampleOptions, generate_sample
from driver.settings import SettingsError, make_settings, project_dir
from driver.sql_query import QueryFailed, print_result, run_query
from driver.summary import print_plan_summary, print_summary

app = typer.Typer(
    help="Decide where to train models for every (target, symbol) pair, and hand training a plan it follows.",
    no_args_is_help=True,
    add_completion=False,
)

EXPECTED_ERRORS = (
    SettingsError,
    NotARunDirectory,
    DbtBuildError,
    DatabaseMissing,
    RejectedInputs,
    PlanInvalid,
    PlanNotFound,
    QueryFailed,
)
REJECTS_SHOWN = 20

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="DuckDB file (default: env TRAINPLAN_DB or .trainplan/trainplan.duckdb)."),
]

SAMPLE_RUN = Path("examples/sample_run")
DEMO_OUT = Path(".trainplan/demo")


def _fail(console: Console, err: Exception) -> None:
    console.print("[bold red]error:[/] ", end="")
    console.print(str(err), soft_wrap=True, markup=False)
    raise typer.Exit(code=2)


def _print_rejects(console: Console, con) -> None:
    rejects = fetch_rejects(con)
    console.print(f"rejected inputs: {len(rejects)}" + (" (see table rejected_inputs)" if rejects else ""))
    for reject in rejects[:REJECTS_SHOWN]:
        console.print(f"  - {reject.describe()}", soft_wrap=True, markup=False)
    if len(rejects) > REJECTS_SHOWN:
        console.print(f"  ... and {len(rejects) - REJECTS_SHOWN} more")


def _refresh_and_report(console: Console, strict: bool = False, **options: Path | None) -> None:
    try:
        settings = make_settings(**options)
        result = refresh(settings, strict=strict)
        with read_only(result.db_path) as con:
            print_summary(con, console)
            _print_rejects(console, con)
    except EXPECTED_ERRORS as err:
        _fail(console, err)
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
    policy: Annotated[Path | None, typer.Option("--policy", help="Routing policy YAML.")] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="DuckDB file (default: env TRAINPLAN_DB or .trainplan/trainplan.duckdb)."),
    ] = None,
) -> None:
    """dbt build on a run directory, then export the training plan."""
    _refresh_and_report(
        Console(),
        strict=strict,
        run_dir=run_dir,
        candidates_file=candidates,
        out_dir=out,
        policy_path=policy,
        db_path=db,
    )


@app.command()
def demo() -> None:
    """Refresh on the bundled sample run into .trainplan/demo and print the summary."""
    console = Console()
    root = project_dir()
    out = root / DEMO_OUT
    console.print(f"sample run: {root / SAMPLE_RUN}")
    _refresh_and_report(
        console, run_dir=root / SAMPLE_RUN, out_dir=out, db_path=out / "trainplan.duckdb", policy_path=None
    )


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the run directory into.")],
    targets: Annotated[int, typer.Option(min=1, help="Number of targets.")] = 6,
    symbols: Annotated[int, typer.Option(min=1, help="Number of symbols.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
    snapshots: Annotated[int, typer.Option(min=1, help="Importance snapshots per stability scope.")] = 3,
    snapshot_features: Annotated[int, typer.Option(min=20, help="Features per importance snapshot.")] = 40,
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy whose thresholds place the scores.")] = None,
    staged: Annotated[
        bool, typer.Option("--staged-layout", help="Newer FoxML layout: stage=<STAGE>/<VIEW>/.../universe=<sig>/.")
    ] = False,
    broken: Annotated[
        bool, typer.Option("--broken", help="The broken-files fixture (examples/broken_run); size options are ignored.")
    ] = False,
) -> None:
    """Write a deterministic FoxML-layout run directory."""
    console = Console()
    try:
        settings = make_settings(policy_path=policy)
    except EXPECTED_ERRORS as err:
        _fail(console, err)
    doc = yaml.safe_load(settings.policy_path.read_text(encoding="utf-8"))
    if broken:
        path = generate_broken_run(out, doc)
    else:
        options = SampleOptions(
            out=out,
            targets=targets,
            symbols=symbols,
            seed=seed,
            staged_layout=staged,
            snapshots=snapshots,
            snapshot_features=snapshot_features,
        )
        path = generate_sample(options, doc)
    console.print(f"wrote {path}")


@app.command(name="export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder that receives globals/ (e.g. the run directory).")],
    db: DbOption = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy file hashed into config_hash (default: the one dbt read).")
    ] = None,
) -> None:
    """Write the routing plan and the training plan from the database (no dbt build)."""
    console = Console()
    try:
        settings = make_settings(db_path=db, out_dir=out, policy_path=policy)
        with read_only(settings.db_path) as con:
            result = export_plan(
                con, plan_root=settings.plan_root, project=settings.project, policy_path=policy and settings.policy_path
            )
    except EXPECTED_ERRORS as err:
        _fail(console, err)
    console.print(f"plan {result.plan_id}: {result.total_jobs} jobs")
    console.print(f"plan: {result.master_plan}")
    console.print(f"routing plan: {result.routing_plan_dir}")


@app.command(name="summary")
def summary_cmd(
    plan: Annotated[Path | None, typer.Argument(help="A plan (file, training_plan folder or output root).")] = None,
    db: DbOption = None,
) -> None:
    """Totals by route, type, priority and target: of a written plan, or of the database without PLAN."""
    console = Console()
    try:
        if plan is not None:
            print_plan_summary(load_training_plan(plan), console)
            return
        with read_only(make_settings(db_path=db).db_path) as con:
            print_summary(con, console)
    except EXPECTED_ERRORS as err:
        _fail(console, err)


@app.command(name="explain")
def explain_cmd(
    target: Annotated[str, typer.Argument(help="Target name.")],
    symbol: Annotated[
        str | None, typer.Argument(help="Symbol (omit for the target's cross-sectional decision).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Every rule evaluated for a pair (or a target's CS lane), its evidence and the decided route. Exit 1: unknown."""
    console = Console()
    try:
        with read_only(make_settings(db_path=db).db_path) as con:
            found = explain(con, target, symbol)
    except EXPECTED_ERRORS as err:
        _fail(console, err)
    if found is None:
        scope = f"({target}, {symbol})" if symbol is not None else f"target {target}"
        console.print(f"[bold red]unknown:[/] no decision for {scope} in the database", soft_wrap=True)
        raise typer.Exit(code=1)
    print_explanation(found, console)


@app.command(name="diff")
def diff_cmd(
    plan_a: Annotated[Path, typer.Argument(help="The older plan.")],
    plan_b: Annotated[Path, typer.Argument(help="The newer plan.")],
) -> None:
    """Added, removed and changed jobs and route changes. Exit 0 when the jobs are equal, 1 when they differ."""
    console = Console()
    try:
        result = diff_plans(load_training_plan(plan_a), load_training_plan(plan_b))
    except EXPECTED_ERRORS as err:
        _fail(console, err)
    print_diff(result, console)
    if result.differs:
        raise typer.Exit(code=1)


@app.command(name="validate")
def validate_cmd(
    plan: Annotated[Path, typer.Argument(help="A plan (file, training_plan folder or output root).")],
) -> None:
    """Schema and semantic checks of a written plan; exit 1 listing every problem."""
    console = Console()
    try:
        problems = validate_plan(load_training_plan(plan), load_routing_plan(plan))
    except EXPECTED_ERRORS as err:
        _fail(console, err)
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
) -> None:
    """Run a read-only query on the database and print the result as a table."""
    console = Console()
    try:
        result = run_query(make_settings(db_path=db).db_path, query, limit)
    except EXPECTED_ERRORS as err:
        _fail(console, err)
    print_result(result, console)


if __name__ == "__main__":
    app()
