"""Which jobs of the plan a run trains, in which order, and why each other job is skipped.

Every runnable job (cross-sectional and symbol-specific) is selected unless a filter leaves it out; a filter given
more than once accepts any of its values. Order: higher priority first, then the plan's order. With `--resume`,
a job that already succeeded under the same `plan_id` in this ledger is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trainplan.errors import TrainplanError
from trainplan.plan.model import RUNNABLE_TYPES, Job, Plan
from trainplan.plan.routes import route_names


class SelectionInvalid(TrainplanError):
    """A filter value that matches nothing the plan could hold (a typo)."""


@dataclass(frozen=True)
class Filters:
    targets: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "target": list(self.targets),
            "symbol": list(self.symbols),
            "type": list(self.types),
            "route": list(self.routes),
        }


NOT_RUNNABLE, FILTERED, SUCCEEDED_BEFORE = "not runnable", "filtered out", "already succeeded"


@dataclass(frozen=True)
class Skipped:
    job: Job
    kind: str  # NOT_RUNNABLE, FILTERED or SUCCEEDED_BEFORE
    reason: str


@dataclass(frozen=True)
class Selection:
    to_run: tuple[Job, ...]  # in run order
    skipped: tuple[Skipped, ...]  # in plan order


def normalise_route(value: str) -> str:
    """`both`, `ROUTE_BOTH` and `route_both` all name ROUTE_BOTH; SelectionInvalid for an unknown route."""
    upper = value.strip().upper()
    name = upper if upper.startswith("ROUTE_") else f"ROUTE_{upper}"
    if name not in route_names():
        raise SelectionInvalid(f"--route {value!r}: unknown route (known: {', '.join(route_names())})")
    return name


def check_filters(plan: Plan, filters: Filters) -> Filters:
    """The filters with routes normalised; SelectionInvalid naming a value no job of the plan has."""
    for value in filters.types:
        if value not in RUNNABLE_TYPES:
            raise SelectionInvalid(f"--type {value!r}: expected one of {', '.join(sorted(RUNNABLE_TYPES))}")
    for value in filters.targets:
        if value not in plan.by_target:
            raise SelectionInvalid(f"--target {value!r}: no job of the plan has this target")
    for value in filters.symbols:
        if value not in plan.by_symbol:
            raise SelectionInvalid(f"--symbol {value!r}: no job of the plan has this symbol")
    return Filters(filters.targets, filters.symbols, filters.types, tuple(normalise_route(r) for r in filters.routes))


def _filtered(job: Job, filters: Filters) -> str | None:
    if filters.targets and job.target not in filters.targets:
        return "filtered out by --target"
    if filters.symbols and job.symbol not in filters.symbols:
        return "filtered out by --symbol" + (" (a cross-sectional job has no symbol)" if job.symbol is None else "")
    if filters.types and job.training_type not in filters.types:
        return "filtered out by --type"
    if filters.routes and job.route not in filters.routes:
        return "filtered out by --route"
    return None


def run_order(jobs: list[Job]) -> tuple[Job, ...]:
    return tuple(sorted(jobs, key=lambda j: (-j.priority, j.order)))


def select_jobs(plan: Plan, filters: Filters, succeeded: Mapping[str, str] | None = None) -> Selection:
    """The jobs to run and the skipped ones with their reason; `succeeded` maps job id → the run it succeeded in."""
    succeeded = succeeded or {}
    to_run: list[Job] = []
    skipped: list[Skipped] = []
    for job in plan.jobs:
        if not job.runnable:
            skipped.append(Skipped(job, NOT_RUNNABLE, f"not runnable (training_type {job.training_type})"))
        elif (reason := _filtered(job, filters)) is not None:
            skipped.append(Skipped(job, FILTERED, reason))
        elif job.job_id in succeeded:
            run = succeeded[job.job_id]
            skipped.append(Skipped(job, SUCCEEDED_BEFORE, f"already succeeded under this plan_id (run {run})"))
        else:
            to_run.append(job)
    return Selection(run_order(to_run), tuple(skipped))
