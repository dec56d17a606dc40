"""The scheduler over a fake executor: order, in-flight cap, ledger ordering, deadlines, retries, interrupts.

The fake executor runs nothing: the test decides when each attempt ends, and time is a fake clock that only
moves when the scheduler waits, so deadlines and backoffs are checked without any real time passing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from trainplan.plan.model import Plan
from trainplan.train import ledger as L
from trainplan.train import scheduler as scheduler_module
from trainplan.train.executor import AttemptResult, AttemptSpec
from trainplan.train.scheduler import Scheduler, SchedulerOptions

from tests.train_support import plan_document


class FakeClock:
    """Stands in for the scheduler's `time` module: `monotonic()` moves only when the executor waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(scheduler_module, "time", fake)
    return fake


class FakeExecutor:
    """`slots` slots; an attempt ends when `decide(spec)` says so (ok / error / None = keeps running)."""

    name = "fake"
    host = "fakehost"
    clock: FakeClock | None = None

    def __init__(self, slots: int, decide: Callable[[AttemptSpec], str | None], ledger: Path) -> None:
        self.slots = slots
        self.decide = decide
        self.ledger = ledger
        self.running: dict[int, AttemptSpec] = {}
        self.submitted: list[AttemptSpec] = []
        self.submitted_at: list[float] = []
        self.cancelled: list[int] = []
        self.max_in_flight = 0
        self.on_wait: Callable[[FakeExecutor], None] = lambda _e: None
        self.gone: str | None = None  # set by a test: the executor's cluster went away

    def free_slots(self) -> int:
        return self.slots - len(self.running)

    def submit(self, spec: AttemptSpec) -> int:
        assert len(self.running) < self.slots
        # the running record is in the ledger before the attempt is submitted
        last = [r for r in L.read_records(next(iter(L.run_files(self.ledger))))][-1]
        assert (last["job_id"], last["attempt"], last["status"]) == (spec.job["job_id"], spec.attempt, "running")
        self.running[spec.key] = spec
        self.submitted.append(spec)
        self.submitted_at.append(self.clock.now if self.clock else 0.0)
        self.max_in_flight = max(self.max_in_flight, len(self.running))
        return spec.key

    def cancel(self, key: int) -> None:
        self.cancelled.append(key)

    def _result(self, spec: AttemptSpec, outcome: str) -> AttemptResult:
        now = self.clock.now if self.clock else 0.0
        return AttemptResult(
            spec.key,
            outcome,
            None,
            None if outcome == "ok" else outcome,
            {"k": spec.key},
            "",
            [],
            self.host,
            1,
            now,
            now,
        )  # type: ignore[arg-type]

    def wait(self, timeout: float) -> list[AttemptResult]:
        self.on_wait(self)
        out = []
        for key, spec in list(self.running.items()):
            if key in self.cancelled:
                outcome: str | None = "killed"
            else:
                outcome = self.decide(spec)
            if outcome is not None:
                del self.running[key]
                out.append(self._result(spec, outcome))
        if not out and self.clock is not None:
            self.clock.now += timeout  # nothing ended: the whole timeout passes
        return out

    def broken(self) -> str | None:
        return self.gone

    def close(self) -> None:
        pass


def _setup(tmp_path: Path, doc: dict[str, Any], *, check: bool = True) -> tuple[Plan, L.LedgerWriter]:
    plan = Plan.from_document(doc, check=check)
    writer = L.LedgerWriter(L.run_file(tmp_path, "r1"))
    writer.append({"record": "session", "run_id": "r1", "session": 1})
    return plan, writer


def _scheduler(
    plan: Plan, doc: dict[str, Any], executor: FakeExecutor, writer: L.LedgerWriter, tmp_path: Path, **opts: Any
) -> Scheduler:
    jobs = [j for j in plan.jobs if j.runnable]
    return Scheduler(
        jobs=jobs,
        job_documents=doc["jobs"],
        executor=executor,
        ledger=writer,
        run_id="r1",
        plan_id="p",
        session=1,
        artifacts_root=tmp_path / "artifacts",
        options=SchedulerOptions(**opts),
    )


def test_priority_first_even_against_plan_order(tmp_path: Path) -> None:
    doc = plan_document(targets=("t1", "t2"), symbols=("A", "B", "C"))
    doc["jobs"].reverse()  # lowest priority first in the file: only the scheduler can put them right
    plan, writer = _setup(tmp_path, doc, check=False)
    ex = FakeExecutor(1, lambda _s: "ok", tmp_path)
    outcomes = _scheduler(plan, doc, ex, writer, tmp_path).run()
    order = [s.job["job_id"] for s in ex.submitted]
    expected = [j.job_id for j in sorted((j for j in plan.jobs if j.runnable), key=lambda j: (-j.priority, j.order))]
    assert order == expected
    assert [s.job["priority"] for s in ex.submitted] == sorted((s.job["priority"] for s in ex.submitted), reverse=True)
    assert order != [j["job_id"] for j in doc["jobs"]]
    assert {o.status for o in outcomes} == {"succeeded"}


def test_in_flight_never_exceeds_the_free_slots_and_ends_are_recorded_before_reuse(tmp_path: Path) -> None:
    doc = plan_document(targets=("t1", "t2", "t3"), symbols=("A", "B", "C", "D"))
    plan, writer = _setup(tmp_path, doc)
    ex = FakeExecutor(3, lambda s: "ok" if s.key == min(ex.running) else None, tmp_path)  # the oldest ends each wait
    _scheduler(plan, doc, ex, writer, tmp_path).run()
    assert len(ex.submitted) == len(plan.runnable_jobs)
    assert ex.max_in_flight == 3
    recs = [r for r in L.read_records(L.run_file(tmp_path, "r1")) if r["record"] == "attempt"]
    # at every point, running-without-end attempts never exceed the slots
    open_now: set[str] = set()
    for rec in recs:
        if rec["status"] == "running":
            open_now.add(rec["job_id"])
            assert len(open_now) <= 3
        else:
            open_now.discard(rec["job_id"])
    assert [r["seq"] for r in L.read_records(L.run_file(tmp_path, "r1"))] == list(range(1, len(recs) + 2))


def test_a_deadline_cancels_through_the_executor_and_records_timed_out(tmp_path: Path, clock: FakeClock) -> None:
    doc = plan_document(targets=("t",), symbols=("A", "B"), cs_jobs=False)
    plan, writer = _setup(tmp_path, doc)
    ex = FakeExecutor(2, lambda s: None if s.job["symbol"] == "A" else "ok", tmp_path)
    ex.clock = clock
    start = clock.now
    outcomes = {o.job.job_id: o for o in _scheduler(plan, doc, ex, writer, tmp_path, timeout_s=30).run()}
    assert outcomes["sym_t_A"].status == "timed_out" and outcomes["sym_t_B"].status == "succeeded"
    assert "timed out after 30 s" in (outcomes["sym_t_A"].error or "")
    assert len(ex.cancelled) == 1
    assert 30 <= clock.now - start < 30.5  # cancelled at its deadline, not before


def test_retries_are_new_attempts_with_backoff(tmp_path: Path, clock: FakeClock) -> None:
    doc = plan_document(targets=("t",), symbols=("A",), cs_jobs=False)
    plan, writer = _setup(tmp_path, doc)
    ex = FakeExecutor(1, lambda s: "error" if s.attempt < 3 else "ok", tmp_path)
    ex.clock = clock
    (outcome,) = _scheduler(plan, doc, ex, writer, tmp_path, retries=3, backoff_s=5).run()
    assert outcome.status == "succeeded" and outcome.attempts == 3
    assert [s.attempt for s in ex.submitted] == [1, 2, 3]
    gaps = [b - a for a, b in zip(ex.submitted_at, ex.submitted_at[1:], strict=False)]
    assert 5 <= gaps[0] < 5.5 and 10 <= gaps[1] < 10.5  # backoff 5 s, then doubled
    assert len({s.artifacts_dir for s in ex.submitted}) == 3


def test_retries_are_bounded(tmp_path: Path) -> None:
    doc = plan_document(targets=("t",), symbols=("A",), cs_jobs=False)
    plan, writer = _setup(tmp_path, doc)
    ex = FakeExecutor(1, lambda _s: "error", tmp_path)
    (outcome,) = _scheduler(plan, doc, ex, writer, tmp_path, retries=2, backoff_s=0).run()
    assert outcome.status == "failed" and [s.attempt for s in ex.submitted] == [1, 2, 3]


def test_one_interrupt_stops_scheduling_and_lets_running_jobs_finish(tmp_path: Path) -> None:
    doc = plan_document(targets=("t1", "t2"), symbols=("A", "B", "C"))
    plan, writer = _setup(tmp_path, doc)
    release = {"go": False}
    ex = FakeExecutor(2, lambda _s: "ok" if release["go"] else None, tmp_path)
    sched = _scheduler(plan, doc, ex, writer, tmp_path)

    def interrupt_once(e: FakeExecutor) -> None:
        if len(e.submitted) == 2 and not sched.interrupts:
            sched.interrupt()
        elif sched.stopping:
            release["go"] = True

    ex.on_wait = interrupt_once
    outcomes = sched.run()
    statuses = sorted(o.status for o in outcomes)
    assert statuses.count("succeeded") == 2 and statuses.count("interrupted") == len(outcomes) - 2
    assert len(ex.submitted) == 2 and not ex.cancelled


def test_a_second_interrupt_cancels_running_jobs(tmp_path: Path) -> None:
    doc = plan_document(targets=("t1",), symbols=("A", "B", "C"))
    plan, writer = _setup(tmp_path, doc)
    ex = FakeExecutor(2, lambda _s: None, tmp_path)
    sched = _scheduler(plan, doc, ex, writer, tmp_path)

    def interrupt_twice(e: FakeExecutor) -> None:
        if len(e.submitted) == 2 and sched.interrupts < 2:
            sched.interrupt()

    ex.on_wait = interrupt_twice
    outcomes = sched.run()
    statuses = sorted(o.status for o in outcomes)
    assert statuses == ["cancelled", "cancelled", "interrupted", "interrupted"]
    assert len(ex.cancelled) == 2
    ended = [r for r in L.read_records(L.run_file(tmp_path, "r1")) if r.get("status") in ("cancelled", "interrupted")]
    assert len(ended) == 4 and all(r["started_at"] is None for r in ended if r["status"] == "interrupted")


def test_a_broken_executor_ends_the_run_with_every_job_recorded(tmp_path: Path) -> None:
    """A cluster that goes away (a Ray head lost): its in-flight attempts come back failed, without a retry; the
    rest is recorded interrupted, so `--resume` continues the run."""
    doc = plan_document(targets=("t1",), symbols=("A", "B", "C"))
    plan, writer = _setup(tmp_path, doc)
    ex = FakeExecutor(2, lambda s: "error" if ex.gone else None, tmp_path)
    sched = _scheduler(plan, doc, ex, writer, tmp_path, retries=3, backoff_s=0.0)
    messages: list[str] = []
    sched.on_message = messages.append

    def lose_head(e: FakeExecutor) -> None:
        if len(e.submitted) == 2:
            e.gone = "the Ray head at h:1 went away"

    ex.on_wait = lose_head
    outcomes = sched.run()
    assert sorted(o.status for o in outcomes) == ["failed", "failed", "interrupted", "interrupted"]
    assert len(ex.submitted) == 2  # nothing started, nor retried, after the loss
    assert sched.stopping and any("the Ray head at h:1 went away" in m for m in messages)
    recs = [r for r in L.read_records(L.run_file(tmp_path, "r1")) if r["record"] == "attempt"]
    assert sorted(r["status"] for r in recs if r["status"] != "running") == sorted(o.status for o in outcomes)
