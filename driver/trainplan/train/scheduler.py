"""The scheduler: priority queue, in-flight cap, deadlines, retries, Ctrl-C, and the ledger, over any executor.

- Jobs start highest priority first, then in plan order; a retry keeps its job's place (after its backoff).
- No more attempts are in flight than the executor has free slots, so the queue decides what runs next.
- Before an attempt is submitted its `running` record is in the ledger; when it ends its end record is written
  before its slot is offered to another job.
- `--timeout`: a deadline per attempt, from its submission; past it the scheduler has the executor kill it
  (`timed_out`). `--retries N`: a `failed` or `timed_out` attempt is tried again up to N times, after
  `backoff * 2^(k-1)` seconds for the k-th retry; each attempt is its own ledger record.
- `interrupt()` (the first Ctrl-C): nothing new starts, running attempts finish; queued jobs are recorded
  `interrupted`. `interrupt()` again (or SIGTERM): running attempts are killed and recorded `cancelled`.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainplan.plan.model import Job
from trainplan.train import ledger as L
from trainplan.train.executor import AttemptResult, AttemptSpec, Executor, JsonValue

POLL_S = 0.1  # longest wait between looks at Ctrl-C and deadlines
MAX_BACKOFF_S = 300.0


@dataclass(frozen=True)
class SchedulerOptions:
    timeout_s: float | None = None
    retries: int = 0
    backoff_s: float = 1.0


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended in this session."""

    job: Job
    status: str
    attempts: int  # attempts started in this session
    duration_s: float | None  # of its last attempt
    error: str | None
    metrics: Mapping[str, JsonValue] | None  # what the trainer returned (JSON)


@dataclass(frozen=True)
class Progress:
    succeeded: int
    failed: int  # failed or timed out (final)
    running: int
    finished: int  # jobs with a final status
    total: int


@dataclass
class _InFlight:
    job: Job
    attempt: int
    artifacts_dir: str
    submitted: float  # monotonic
    deadline: float | None
    killed_for: str | None = None  # "timeout" | "cancel"


class Scheduler:
    def __init__(
        self,
        *,
        jobs: Sequence[Job],
        job_documents: Sequence[Mapping[str, Any]],
        executor: Executor,
        ledger: L.LedgerWriter,
        run_id: str,
        plan_id: str,
        session: int,
        artifacts_root: Path,
        options: SchedulerOptions,
        first_attempt: Mapping[str, int] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_message: Callable[[str], None] | None = None,
    ) -> None:
        self.executor = executor
        self.ledger = ledger
        self.docs = job_documents
        self.run_id, self.plan_id, self.session = run_id, plan_id, session
        self.artifacts_root = artifacts_root
        self.options = options
        self.first_attempt = first_attempt or {}
        self.on_progress = on_progress or (lambda _p: None)
        self.on_message = on_message or (lambda _m: None)
        self.total = len(jobs)
        # (-priority, plan order, attempt, job): heapq pops the most urgent; plan order is unique per queued job
        self.ready: list[tuple[int, int, int, Job]] = [
            (-j.priority, j.order, self.first_attempt.get(j.job_id, 1), j) for j in jobs
        ]
        heapq.heapify(self.ready)
        self.delayed: list[tuple[float, int, int, Job]] = []  # (monotonic ready time, order, attempt, job)
        self.inflight: dict[int, _InFlight] = {}
        self.outcomes: dict[str, JobOutcome] = {}
        self.started_in_session: dict[str, int] = {}
        self.interrupts = 0
        self.stopping = False
        self.cancelling = False
        self._keys = itertools.count(1)
        self._succeeded = 0
        self._failed = 0

    # --- control (signal handlers call this; it only counts) ---------------------------------------------------

    def interrupt(self, cancel: bool = False) -> None:
        self.interrupts = max(self.interrupts + 1, 2 if cancel else 1)

    # --- the loop ------------------------------------------------------------------------------------------------

    def run(self) -> list[JobOutcome]:
        self._report()
        while True:
            self._handle_interrupts()
            self._handle_broken()
            now = time.monotonic()
            while self.delayed and self.delayed[0][0] <= now:
                _, order, attempt, job = heapq.heappop(self.delayed)
                heapq.heappush(self.ready, (-job.priority, order, attempt, job))
            if not self.stopping:
                started = False
                while self.ready and self.executor.free_slots() > 0:
                    _, _, attempt, job = heapq.heappop(self.ready)
                    self._start(job, attempt)
                    started = True
                if started:
                    self._report()
            if not self.inflight and (self.stopping or not (self.ready or self.delayed)):
                break
            results = self.executor.wait(self._wait_for(now))
            self._handle_broken()  # before the results: an attempt lost with the cluster is not retried
            for result in results:
                self._finish(result)
            if results:
                self._report()
            self._enforce_deadlines()
        self._record_not_started()
        self._report()
        return list(self.outcomes.values())

    def _wait_for(self, now: float) -> float:
        wake = now + POLL_S
        for flight in self.inflight.values():
            if flight.deadline is not None and flight.killed_for is None:
                wake = min(wake, flight.deadline)
        if self.delayed:
            wake = min(wake, self.delayed[0][0])
        return max(0.0, wake - now)

    def _handle_interrupts(self) -> None:
        if self.interrupts >= 1 and not self.stopping:
            self.stopping = True
            waiting = len(self.ready) + len(self.delayed)
            self.on_message(
                f"interrupted: starting nothing new ({waiting} jobs not started); waiting for {len(self.inflight)} "
                "running jobs to finish — Ctrl-C again to cancel them"
            )
        if self.interrupts >= 2 and not self.cancelling:
            self.cancelling = True
            if self.inflight:
                self.on_message(f"cancelling {len(self.inflight)} running jobs")
            for key, flight in self.inflight.items():
                if flight.killed_for is None:
                    flight.killed_for = "cancel"
                    self.executor.cancel(key)

    def _handle_broken(self) -> None:
        """An executor that can run nothing more (its cluster went away) stops the run like a first Ctrl-C: its
        in-flight attempts come back failed, the queue is recorded `interrupted`, and `--resume` continues."""
        reason = self.executor.broken()
        if reason is not None and not self.stopping:
            self.stopping = True
            waiting = len(self.ready) + len(self.delayed)
            self.on_message(f"{reason}: starting nothing new ({waiting} jobs not started); the run ends")

    def _enforce_deadlines(self) -> None:
        if self.options.timeout_s is None:
            return
        now = time.monotonic()
        for key, flight in self.inflight.items():
            if flight.killed_for is None and flight.deadline is not None and now >= flight.deadline:
                flight.killed_for = "timeout"
                self.executor.cancel(key)

    # --- attempts ------------------------------------------------------------------------------------------------

    def _start(self, job: Job, attempt: int) -> None:
        key = next(self._keys)
        folder = L.artifacts_dir(self.artifacts_root, self.run_id, job.job_id, attempt)
        self.ledger.append(
            L.attempt_record(
                run_id=self.run_id,
                session=self.session,
                plan_id=self.plan_id,
                job=job,
                attempt=attempt,
                executor=self.executor.name,
                host=self.executor.host,
                pid=None,
                status=L.RUNNING,
                started_at=time.time(),
                artifacts_dir=folder,
            )
        )
        spec = AttemptSpec(key, self.docs[job.order], job.order, self.run_id, self.plan_id, attempt, folder)
        now = time.monotonic()
        deadline = now + self.options.timeout_s if self.options.timeout_s is not None else None
        self.inflight[key] = _InFlight(job, attempt, folder, now, deadline)
        self.started_in_session[job.job_id] = self.started_in_session.get(job.job_id, 0) + 1
        self.executor.submit(spec)

    def _status_of(self, result: AttemptResult, flight: _InFlight) -> tuple[str, str | None]:
        if result.outcome == "ok":
            return L.SUCCEEDED, None
        if flight.killed_for == "timeout":
            return L.TIMED_OUT, f"timed out after {self.options.timeout_s:g} s (its process group was killed)"
        if flight.killed_for == "cancel":
            return L.CANCELLED, "cancelled by a second Ctrl-C (its process group was killed)"
        return L.FAILED, result.error

    def _finish(self, result: AttemptResult) -> None:
        flight = self.inflight.pop(result.key)
        job = flight.job
        status, error = self._status_of(result, flight)
        self.ledger.append(
            L.attempt_record(
                run_id=self.run_id,
                session=self.session,
                plan_id=self.plan_id,
                job=job,
                attempt=flight.attempt,
                executor=self.executor.name,
                host=result.host,
                node=result.node,
                pid=result.pid,
                status=status,
                started_at=result.started_at,
                ended_at=result.ended_at,
                exit_code=result.exit_code,
                error=error,
                output_tail=result.output_tail,
                metrics=result.metrics,
                artifacts_dir=flight.artifacts_dir,
                artifacts=list(result.artifacts),
            )
        )
        retries_used = self.started_in_session.get(job.job_id, 1) - 1
        if status in (L.FAILED, L.TIMED_OUT) and retries_used < self.options.retries and not self.stopping:
            delay = min(self.options.backoff_s * 2**retries_used, MAX_BACKOFF_S)
            heapq.heappush(self.delayed, (time.monotonic() + delay, job.order, flight.attempt + 1, job))
            return
        if status == L.SUCCEEDED:
            self._succeeded += 1
        elif status in (L.FAILED, L.TIMED_OUT):
            self._failed += 1
        self.outcomes[job.job_id] = JobOutcome(
            job=job,
            status=status,
            attempts=self.started_in_session.get(job.job_id, 0),
            duration_s=round(result.ended_at - result.started_at, 6),
            error=error,
            metrics=result.metrics,
        )

    def _record_not_started(self) -> None:
        """Jobs still queued (or waiting to retry) when the run stopped: recorded `interrupted`."""
        waiting = [(order, attempt, job) for _, order, attempt, job in self.ready]
        waiting += [(order, attempt, job) for _, order, attempt, job in self.delayed]
        for _, attempt, job in sorted(waiting, key=lambda w: (-w[2].priority, w[0])):
            self.ledger.append(
                L.attempt_record(
                    run_id=self.run_id,
                    session=self.session,
                    plan_id=self.plan_id,
                    job=job,
                    attempt=attempt,
                    executor=self.executor.name,
                    host=None,
                    pid=None,
                    status=L.INTERRUPTED,
                    started_at=None,
                    error="not started: the run was interrupted",
                )
            )
            self.outcomes[job.job_id] = JobOutcome(
                job, L.INTERRUPTED, self.started_in_session.get(job.job_id, 0), None, None, None
            )
        self.ready, self.delayed = [], []

    def _report(self) -> None:
        self.on_progress(Progress(self._succeeded, self._failed, len(self.inflight), len(self.outcomes), self.total))
