"""`trainplan train` and `trainplan runs`: apply the plan to training, and read the job ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trainplan.cli.app import app, make_console
from trainplan.cli.options import DbOption, LedgerOption, PolicyOption
from trainplan.config.training_policy import ResourceOverrides
from trainplan.train.run import TrainOptions, run_training
from trainplan.train.runs import RunsOptions, print_runs
from trainplan.train.selection import Filters

PlanOption = Annotated[
    Path | None,
    typer.Option("--plan", help="A plan (file, training_plan folder or output root); default: the last refresh's."),
]


@app.command(
    name="train",
    context_settings={"allow_interspersed_args": True},
)
def train_cmd(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="With --command: the command and its arguments (put them after -- if any starts with -).",
            show_default=False,
        ),
    ] = None,
    plan: PlanOption = None,
    trainer: Annotated[
        str | None,
        typer.Option("--trainer", help="module:function or path/to/file.py:function, called (job, context)."),
    ] = None,
    command: Annotated[
        bool,
        typer.Option(
            "--command",
            help="Run the trailing ARGS per job, {job_id} {target} {symbol} {families} {training_type} "
            "{excluded_features} {artifacts_dir} {job_file} {attempt} {run_id} substituted; no shell.",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes (default: CPUs); with --executor ray the jobs in flight at most "
            "(default: the cluster's CPUs) and the size of a local Ray instance.",
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor", help="local (worker processes here) or ray (Ray tasks; pip install 'trainplan\\[ray]')."
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="--executor ray: the Ray cluster (host:port); default env RAY_ADDRESS, else a local Ray instance.",
        ),
    ] = None,
    cpus_per_job: Annotated[
        float | None,
        typer.Option("--cpus-per-job", min=0.0, help="--executor ray: CPUs each job asks for (default: policy, 1)."),
    ] = None,
    gpus_per_job: Annotated[
        float | None,
        typer.Option("--gpus-per-job", min=0.0, help="--executor ray: GPUs each job asks for (default: policy, 0)."),
    ] = None,
    memory_per_job: Annotated[
        float | None,
        typer.Option(
            "--memory-per-job", min=0.0, help="--executor ray: GB of memory each job reserves (default: policy, 0)."
        ),
    ] = None,
    policy: PolicyOption = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.001, help="Seconds per attempt; then its process group is killed."),
    ] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Retries of a failed or timed-out job.")] = 0,
    retry_backoff: Annotated[
        float, typer.Option("--retry-backoff", min=0.0, help="Seconds before the first retry (doubling).")
    ] = 1.0,
    target: Annotated[list[str] | None, typer.Option("--target", help="Only this target (repeatable).")] = None,
    symbol: Annotated[list[str] | None, typer.Option("--symbol", help="Only this symbol (repeatable).")] = None,
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="cross_sectional or symbol_specific (repeatable).")
    ] = None,
    route: Annotated[
        list[str] | None, typer.Option("--route", help="Only this route, e.g. ROUTE_BOTH (repeatable).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would run and why others are skipped.")] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the latest run (or --run RUN_ID): rerun what did not succeed.")
    ] = False,
    run: Annotated[
        str | None, typer.Option("--run", help="With --resume: the run to continue; else the new run's id.")
    ] = None,
    ledger: LedgerOption = None,
    artifacts: Annotated[
        Path | None,
        typer.Option(
            "--artifacts",
            "--artifacts-root",
            help="Artifacts root (default: <ledger>/artifacts); with --executor ray a shared path every node sees.",
        ),
    ] = None,
    db: DbOption = None,
    allow_stale: Annotated[
        bool, typer.Option("--allow-stale", help="Train a plan that is stale (or cannot be checked); recorded.")
    ] = False,
    fsync: Annotated[
        bool, typer.Option("--fsync", help="fsync the ledger after every record (power-loss safe).")
    ] = False,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal).")
    ] = None,
) -> None:
    """Train every runnable job of the plan, highest priority first, recording each attempt in the job ledger.

    Exit 0 when every job succeeded, 1 when any did not, 2 for bad options or a refused (stale) plan.
    """
    if args and not command:
        raise typer.BadParameter(f"unexpected arguments {args!r}: a command goes after --command (and --)")
    options = TrainOptions(
        plan=plan,
        trainer=trainer,
        command=tuple(args or ()) if command else (),
        workers=workers,
        timeout_s=timeout,
        retries=retries,
        backoff_s=retry_backoff,
        filters=Filters(tuple(target or ()), tuple(symbol or ()), tuple(type_ or ()), tuple(route or ())),
        dry_run=dry_run,
        resume=resume,
        run_id=run,
        ledger=ledger,
        artifacts=artifacts,
        db=db,
        allow_stale=allow_stale,
        fsync=fsync,
        progress=progress,
        executor=executor,
        address=address,
        resources=ResourceOverrides(cpus_per_job, gpus_per_job, memory_per_job),
        policy=policy,
    )
    if command and not args:
        raise typer.BadParameter("--command needs the program and its arguments after it")
    result = run_training(options, make_console())
    raise typer.Exit(code=result.exit_code)


@app.command(name="runs")
def runs_cmd(
    run_id: Annotated[str | None, typer.Argument(help="Show this run's jobs (default: list the runs).")] = None,
    ledger: LedgerOption = None,
    plan: PlanOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to print at most.")] = 1000,
) -> None:
    """The runs of the job ledger with their jobs per status; with RUN_ID, that run's jobs."""
    print_runs(RunsOptions(run_id=run_id, ledger=ledger, plan=plan, limit=limit), make_console())
