"""`run_training`: one `trainplan train`, as a plain function (the CLI and the demo call it).

Order of work, so that a refusal costs nothing: options → pin and validate the plan → filters → the trainer is
imported (or the command checked) in this process → the stale checks → (a dry run prints its selection and stops,
writing nothing) → the ledger lock → `--resume` state → selection → session record → the scheduler runs the
jobs → summary.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from trainplan.config.project import default_policy, project_dir, state_dir
from trainplan.config.settings import last_refresh
from trainplan.config.training_policy import ResourceOverrides, TrainingPolicy, load_training_policy
from trainplan.errors import TrainplanError
from trainplan.train import ledger as L
from trainplan.train.command import check_command
from trainplan.train.executor import CommandPayload, Executor, Payload, TrainerPayload
from trainplan.train.local import LocalExecutor
from trainplan.train.lock import Holder, LedgerLock, this_command
from trainplan.train.pin import PinnedPlan, default_cache, pin_plan
from trainplan.train.report import ProgressBar, print_dry_run, print_summary
from trainplan.train.scheduler import JobOutcome, Scheduler, SchedulerOptions
from trainplan.train.selection import SUCCEEDED_BEFORE, Filters, Selection, Skipped, check_filters, select_jobs
from trainplan.train.stale import Freshness, PlanStale, check_freshness
from trainplan.train.trainer import load_trainer

EXIT_OK, EXIT_FAILED = 0, 1
EXECUTORS = ("local", "ray")


class TrainOptionsInvalid(TrainplanError):
    """Options that cannot make a run (no trainer, both trainer and command, no plan, ...)."""


@dataclass(frozen=True)
class TrainOptions:
    """Everything `trainplan train` takes; see docs/training.md."""

    plan: Path | None = None  # default: the plan root of the last refresh or demo
    trainer: str | None = None  # module:function or path/to/file.py:function
    command: tuple[str, ...] = ()  # an argument list with {placeholders}
    workers: int | None = None  # default: the CPUs this process may use
    timeout_s: float | None = None
    retries: int = 0
    backoff_s: float = 1.0
    filters: Filters = field(default_factory=Filters)
    dry_run: bool = False
    resume: bool = False
    run_id: str | None = None  # with resume: the run to continue (default the latest); else the new run's id
    ledger: Path | None = None  # default: <plan root>/globals/training_runs
    artifacts: Path | None = None  # default: <ledger>/artifacts
    db: Path | None = None  # the plan's database, for the stale checks
    allow_stale: bool = False
    fsync: bool = False
    progress: bool | None = None  # None: on a terminal only
    cwd: Path | None = None  # where trainers and commands resolve and run (default: the working directory)
    executor: str = "local"  # local | ray
    address: str | None = None  # --executor ray: the cluster (default env RAY_ADDRESS, else a local instance)
    resources: ResourceOverrides = field(default_factory=ResourceOverrides)  # --executor ray: per job
    policy: Path | None = None  # --executor ray: the routing policy whose `training:` section gives resources


@dataclass(frozen=True)
class RunResult:
    run_id: str | None  # None for a dry run
    plan_id: str
    plan_dir: Path
    ledger_dir: Path
    ledger_file: Path | None
    outcomes: tuple[JobOutcome, ...]
    skipped: tuple[Skipped, ...]
    interrupted: bool
    repair: L.Repair | None
    freshness: Freshness
    exit_code: int

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def _plan_path(options: TrainOptions) -> Path:
    if options.plan is not None:
        return options.plan
    last = last_refresh(state_dir(project_dir()))
    if last is None:
        raise TrainOptionsInvalid("no plan: give --plan PLAN (or run `trainplan refresh` or `trainplan demo` first)")
    return last[1]


def _payload(options: TrainOptions, cwd: Path) -> Payload | None:
    if options.trainer and options.command:
        raise TrainOptionsInvalid("give either --trainer or --command, not both")
    if options.trainer:
        load_trainer(options.trainer, cwd)  # exit 2 before any job when it cannot be imported
        return TrainerPayload(options.trainer, str(cwd))
    if options.command:
        check_command(options.command, cwd)
        return CommandPayload(tuple(options.command), str(cwd))
    if not options.dry_run:
        raise TrainOptionsInvalid("nothing to train with: give --trainer module:function or --command ARG ...")
    return None


def _check_executor_options(options: TrainOptions) -> None:
    if options.executor not in EXECUTORS:
        raise TrainOptionsInvalid(f"--executor {options.executor!r}: expected one of {', '.join(EXECUTORS)}")
    if options.executor == "ray":
        return
    given = [
        name
        for name, value in (
            ("--address", options.address),
            ("--cpus-per-job", options.resources.cpus),
            ("--gpus-per-job", options.resources.gpus),
            ("--memory-per-job", options.resources.memory_gb),
        )
        if value is not None
    ]
    if given:
        raise TrainOptionsInvalid(f"{', '.join(given)}: only with --executor ray")


def _training_policy(options: TrainOptions) -> TrainingPolicy:
    """The policy's `training:` section (--policy, else env TRAINPLAN_POLICY, else the shipped policy)."""
    env = os.environ.get("TRAINPLAN_POLICY")
    path = options.policy or (Path(env) if env else None) or default_policy(project_dir())
    return load_training_policy(path.absolute())


def _make_executor(
    options: TrainOptions, payload: Payload, selection: Selection, workers: int, artifacts_root: Path
) -> Executor:
    """The local executor, or the Ray executor once its cluster can fit every job and write the artifacts root."""
    if options.executor == "local":
        return LocalExecutor(min(workers, len(selection.to_run)), payload)
    from trainplan.train.ray_executor import RayExecutor, import_ray  # never imported by the local executor

    import_ray()  # the one-line install hint before anything else
    policy = _training_policy(options)

    def resources_of(job: Any) -> Any:
        return policy.resources_for(job.get("model_families") or (), options.resources)

    executor = RayExecutor(payload=payload, address=options.address, workers=options.workers, resources_of=resources_of)
    try:
        executor.check_artifacts_root(artifacts_root)  # first: it also drops nodes that have left the cluster
        executor.check_fits([(job.job_id, resources_of(job)) for job in selection.to_run])
    except BaseException:
        executor.close()
        raise
    return executor


def _freshness(options: TrainOptions, pinned: PinnedPlan) -> Freshness:
    fresh = check_freshness(pinned.plan, pinned.plan_root, options.db)
    if fresh.fresh or options.allow_stale:
        return fresh
    if fresh.checked:
        raise PlanStale(
            f"the plan {pinned.plan_id} ({pinned.file}) is stale: {fresh.describe()}; refresh it "
            "(`trainplan refresh`), or train it anyway with --allow-stale"
        )
    raise PlanStale(
        f"cannot check that the plan {pinned.plan_id} ({pinned.file}) is current: {fresh.describe()}; "
        "or train it anyway with --allow-stale"
    )


@dataclass(frozen=True)
class _RunState:
    run_id: str
    session: int
    next_seq: int
    first_attempt: dict[str, int]
    dangling: list[dict[str, Any]]
    succeeded: dict[str, str]


def _choose_run_id(options: TrainOptions, ledger_dir: Path) -> str:
    if not options.resume:
        run_id = L.check_run_id(options.run_id) if options.run_id else L.new_run_id(datetime.now(UTC))
        if L.run_file(ledger_dir, run_id).exists():
            raise L.LedgerError(
                f"run {run_id} already exists in {ledger_dir}; continue it with --resume --run {run_id}"
            )
        return run_id
    run_id = L.check_run_id(options.run_id) if options.run_id else L.latest_run_id(ledger_dir)
    if run_id is None:
        raise L.LedgerError(f"--resume: no run in the ledger {ledger_dir} yet")
    if not L.run_file(ledger_dir, run_id).is_file():
        raise L.LedgerError(f"--resume: no run {run_id} in the ledger {ledger_dir}")
    return run_id


def _run_state(options: TrainOptions, ledger_dir: Path, run_id: str, plan_id: str) -> _RunState:
    """A new run's state, or what the ledger says of the run to resume (read while holding the lock)."""
    if not options.resume:
        return _RunState(run_id, 1, 1, {}, [], {})
    log = L.read_run(L.run_file(ledger_dir, run_id))
    # no session record (killed, or a full disk, before the first was written): the run trained nothing yet
    if log.plan_id is not None and log.plan_id != plan_id:
        raise L.LedgerError(
            f"--resume: run {run_id} trained plan {log.plan_id}, but the plan is now {plan_id}; "
            "start a new run (without --resume) to train this plan"
        )
    first = {job_id: n + 1 for job_id, n in log.latest_attempt().items()}
    succeeded = L.succeeded_under(ledger_dir, plan_id, {run_id: log})
    return _RunState(run_id, len(log.sessions) + 1, log.last_seq + 1, first, log.dangling(), succeeded)


@contextmanager
def _signals(scheduler: Scheduler) -> Iterator[None]:
    """SIGINT counts towards stop / cancel; SIGTERM cancels at once. Only the main thread can install handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before_int = signal.getsignal(signal.SIGINT)
    before_term = signal.getsignal(signal.SIGTERM)
    if before_int is not signal.SIG_IGN:  # a background job started with SIGINT ignored keeps ignoring it
        signal.signal(signal.SIGINT, lambda _s, _f: scheduler.interrupt())
    signal.signal(signal.SIGTERM, lambda _s, _f: scheduler.interrupt(cancel=True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before_int)
        signal.signal(signal.SIGTERM, before_term)


def _session_record(
    options: TrainOptions,
    pinned: PinnedPlan,
    state: _RunState,
    ledger_dir: Path,
    executor: Executor | None,
    **more: Any,
) -> dict[str, Any]:
    return {
        "record": "session",
        "run_id": state.run_id,
        "session": state.session,
        "plan_id": pinned.plan_id,
        "plan_dir": str(pinned.folder),
        "plan_file": str(pinned.file),
        "ledger": str(ledger_dir),
        "executor": options.executor,
        "address": getattr(executor, "address", None),
        "host": LocalExecutor.host,
        "pid": os.getpid(),
        "started_at": L.iso(time.time()),
        "trainer": options.trainer,
        "command": list(options.command) or None,
        "timeout_s": options.timeout_s,
        "retries": options.retries,
        "filters": options.filters.as_dict(),
        "resumed": options.resume,
        **more,
    }


def _close_dangling(writer: L.LedgerWriter, state: _RunState, pinned: PinnedPlan) -> int:
    """An attempt left `running` by a killed run gets its end record: `interrupted`, noted as found on resume."""
    closed = 0
    for rec in state.dangling:
        job = pinned.plan.by_id.get(str(rec.get("job_id")))
        if job is None:
            continue
        writer.append(
            L.attempt_record(
                run_id=state.run_id,
                session=int(rec.get("session") or 0),
                plan_id=pinned.plan_id,
                job=job,
                attempt=int(rec.get("attempt") or 0),
                executor=str(rec.get("executor")),
                host=rec.get("host"),
                pid=rec.get("pid"),
                status=L.INTERRUPTED,
                started_at=None,
                ended_at=time.time(),
                error="the train process ended while this attempt ran (killed?); recorded by --resume",
                artifacts_dir=rec.get("artifacts_dir"),
            )
        )
        closed += 1
    return closed


def run_training(options: TrainOptions, console: Console | None = None) -> RunResult:
    """Train the plan's jobs as `options` say; print progress and a summary to `console`; see the module docstring."""
    console = console or Console()
    cwd = (options.cwd or Path.cwd()).absolute()
    workers = options.workers or len(os.sched_getaffinity(0))
    _check_executor_options(options)
    pinned = pin_plan(_plan_path(options), default_cache())
    filters = check_filters(pinned.plan, options.filters)
    options = replace(options, filters=filters)
    payload = _payload(options, cwd)
    freshness = _freshness(options, pinned)
    if not freshness.fresh:
        console.print(
            f"[yellow]warning:[/] training a plan that may be stale (--allow-stale): {escape(freshness.describe())}",
            soft_wrap=True,
            highlight=False,
        )
    ledger_dir = (options.ledger or L.default_ledger_dir(pinned.globals_dir)).absolute()

    run_id = _choose_run_id(options, ledger_dir)
    if options.dry_run:
        state = _run_state(options, ledger_dir, run_id, pinned.plan_id)
        selection = select_jobs(pinned.plan, filters, state.succeeded)
        print_dry_run(selection, console)
        return RunResult(
            None,
            pinned.plan_id,
            pinned.folder,
            ledger_dir,
            None,
            (),
            selection.skipped,
            False,
            None,
            freshness,
            EXIT_OK,
        )
    assert payload is not None
    holder = Holder(run_id, os.getpid(), LocalExecutor.host, L.iso(time.time()) or "", this_command())
    lock = LedgerLock(ledger_dir, holder)
    try:
        state = _run_state(options, ledger_dir, run_id, pinned.plan_id)
        selection = select_jobs(pinned.plan, filters, state.succeeded)
        artifacts_root = (options.artifacts or ledger_dir / L.ARTIFACTS_DIR).absolute()
        executor = _make_executor(options, payload, selection, workers, artifacts_root) if selection.to_run else None
        try:
            return _run(options, console, pinned, freshness, ledger_dir, state, selection, workers, executor)
        finally:
            if executor is not None:
                executor.close()
    finally:
        lock.release()


def _run(
    options: TrainOptions,
    console: Console,
    pinned: PinnedPlan,
    freshness: Freshness,
    ledger_dir: Path,
    state: _RunState,
    selection: Selection,
    workers: int,
    executor: Executor | None,
) -> RunResult:
    writer = L.LedgerWriter(L.run_file(ledger_dir, state.run_id), state.next_seq, options.fsync)
    try:
        if writer.repair is not None:
            console.print(f"[yellow]repaired:[/] {escape(writer.repair.describe())}", soft_wrap=True, highlight=False)
        closed = _close_dangling(writer, state, pinned)
        if closed:
            console.print(f"resume: {closed} attempts were in flight when the run was killed; they run again")
        writer.append(
            _session_record(
                options,
                pinned,
                state,
                ledger_dir,
                executor,
                workers=getattr(executor, "size", workers) if options.executor == "ray" else workers,
                allow_stale=options.allow_stale,
                stale=None if freshness.fresh else freshness.describe(),
                jobs_selected=len(selection.to_run),
                repaired=writer.repair.describe() if writer.repair else None,
            )
        )
        done_before = sum(1 for s in selection.skipped if s.kind == SUCCEEDED_BEFORE)
        console.print(
            f"run {state.run_id}: plan {pinned.plan_id} ({pinned.folder}), {len(selection.to_run)} jobs to run"
            + (f", {done_before} already succeeded" if done_before else "")
            + f"; ledger {writer.path}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
        if executor is not None and hasattr(executor, "describe"):
            console.print(f"executor ray: {executor.describe()}", soft_wrap=True, highlight=False, markup=False)
        outcomes, interrupted, cancelled = _schedule(
            options, console, pinned, state, selection, executor, ledger_dir, writer
        )
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        writer.append(
            {
                "record": "session_end",
                "run_id": state.run_id,
                "session": state.session,
                "ended_at": L.iso(time.time()),
                "outcome": "cancelled" if cancelled else "interrupted" if interrupted else "finished",
                "counts": counts,
            }
        )
    finally:
        writer.close()
    print_summary(outcomes, console)
    ok = not interrupted and all(o.status == L.SUCCEEDED for o in outcomes)
    if interrupted:
        console.print(f"interrupted: resume with `trainplan train --resume --run {state.run_id}` (same trainer)")
    return RunResult(
        state.run_id,
        pinned.plan_id,
        pinned.folder,
        ledger_dir,
        writer.path,
        tuple(outcomes),
        selection.skipped,
        interrupted,
        writer.repair,
        freshness,
        EXIT_OK if ok else EXIT_FAILED,
    )


def _schedule(
    options: TrainOptions,
    console: Console,
    pinned: PinnedPlan,
    state: _RunState,
    selection: Selection,
    executor: Executor | None,
    ledger_dir: Path,
    writer: L.LedgerWriter,
) -> tuple[list[JobOutcome], bool, bool]:
    if not selection.to_run or executor is None:
        return [], False, False
    show = console.is_terminal if options.progress is None else options.progress
    bar = ProgressBar(console, len(selection.to_run), show)
    scheduler = Scheduler(
        jobs=selection.to_run,
        job_documents=pinned.job_documents,
        executor=executor,
        ledger=writer,
        run_id=state.run_id,
        plan_id=pinned.plan_id,
        session=state.session,
        artifacts_root=(options.artifacts or ledger_dir / L.ARTIFACTS_DIR).absolute(),
        options=SchedulerOptions(options.timeout_s, options.retries, options.backoff_s),
        first_attempt=state.first_attempt,
        on_progress=bar.update,
        on_message=bar.message,
    )
    with bar, _signals(scheduler):
        outcomes = scheduler.run()
    return outcomes, scheduler.stopping, scheduler.cancelling
