"""The `trainplan` command line. Commands only parse arguments and call plain functions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from driver.broken_sample import generate_broken_run
from driver.database import DatabaseMissing, read_only
from driver.dbt_runner import DbtBuildError
from driver.refresh import refresh
from driver.rejects import RejectedInputs, fetch_rejects
from driver.run_dir import NotARunDirectory
from driver.sample import SampleOptions, generate_sample
from driver.settings import SettingsError, make_settings, project_dir
from driver.summary import print_summary

app = typer.Typer(
    help="Decide where to train models for every (target, symbol) pair, and hand training a plan it follows.",
    no_args_is_help=True,
    add_completion=False,
)

EXPECTED_ERRORS = (SettingsError, NotARunDirectory, DbtBuildError, DatabaseMissing, RejectedInputs)
REJECTS_SHOWN = 20

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


if __name__ == "__main__":
    app()
