"""What `train` prints: a live progress bar while it runs, then the summary by status, by route, slowest jobs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from trainplan.train import ledger as L
from trainplan.train.scheduler import JobOutcome
from trainplan.train.scheduler import Progress as Counts
from trainplan.train.selection import Selection

SLOWEST = 5


class ProgressBar:
    """done / failed / running / total and an ETA; shown only on a terminal unless asked."""

    def __init__(self, console: Console, total: int, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled and total > 0
        self.progress = Progress(
            TextColumn("[bold]training[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/] {task.fields[running]} running"
            ),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            disable=not self.enabled,
        )
        self.task = self.progress.add_task("train", total=total, done=0, failed=0, running=0)

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.enabled:
            self.progress.stop()

    def update(self, counts: Counts) -> None:
        if self.enabled:
            self.progress.update(
                self.task,
                completed=counts.finished,
                done=counts.succeeded,
                failed=counts.failed,
                running=counts.running,
            )

    def message(self, text: str) -> None:
        self.console.print(escape(text), soft_wrap=True)


def print_dry_run(selection: Selection, console: Console) -> None:
    table = Table(title=f"would run {len(selection.to_run)} jobs (in this order)")
    for name in ("#", "job_id", "route", "priority", "model_families", "excluded_features"):
        table.add_column(name, overflow="fold")
    for i, job in enumerate(selection.to_run, 1):
        table.add_row(
            str(i),
            escape(job.job_id),
            job.route,
            str(job.priority),
            escape(",".join(job.model_families)),
            str(len(job.excluded_features)),
        )
    console.print(table)
    if selection.skipped:
        skipped = Table(title=f"skipped {len(selection.skipped)} jobs")
        for name in ("job_id", "route", "why"):
            skipped.add_column(name, overflow="fold")
        for item in selection.skipped:
            skipped.add_row(escape(item.job.job_id), item.job.route, escape(item.reason))
        console.print(skipped)
    reasons = Counter(s.kind for s in selection.skipped)
    tail = "; ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    console.print(
        f"dry run: {len(selection.to_run)} to run, {len(selection.skipped)} skipped" + (f" ({tail})" if tail else "")
    )


def print_summary(outcomes: Sequence[JobOutcome], console: Console) -> None:
    if not outcomes:
        console.print("no job to run")
        return
    by_status = Counter(o.status for o in outcomes)
    table = Table(title="jobs by status")
    table.add_column("status")
    table.add_column("jobs", justify="right")
    for status in L.END_STATUSES:
        if by_status.get(status):
            table.add_row(status, str(by_status[status]))
    console.print(table)

    statuses = [s for s in L.END_STATUSES if by_status.get(s)]
    routes = Table(title="jobs by route")
    routes.add_column("route")
    for status in statuses:
        routes.add_column(status, justify="right")
    per_route: dict[str, Counter[str]] = {}
    for o in outcomes:
        per_route.setdefault(o.job.route, Counter())[o.status] += 1
    for route in sorted(per_route):
        routes.add_row(route, *(str(per_route[route].get(s, 0)) for s in statuses))
    console.print(routes)

    timed = sorted((o for o in outcomes if o.duration_s is not None), key=lambda o: -(o.duration_s or 0))[:SLOWEST]
    if timed:
        slow = Table(title=f"slowest {len(timed)} jobs")
        for name in ("job_id", "route", "status", "seconds", "attempts"):
            slow.add_column(name, overflow="fold")
        for o in timed:
            slow.add_row(escape(o.job.job_id), o.job.route, o.status, f"{o.duration_s:.3f}", str(o.attempts))
        console.print(slow)
    failed = [o for o in outcomes if o.status in (L.FAILED, L.TIMED_OUT)]
    for o in failed[:SLOWEST]:
        console.print(f"[red]{o.status}:[/] {escape(o.job.job_id)}: {escape(o.error or '')}", soft_wrap=True)
    if len(failed) > SLOWEST:
        console.print(f"... and {len(failed) - SLOWEST} more failed jobs (trainplan runs RUN_ID lists them)")
