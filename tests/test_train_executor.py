"""The local executor on its own: slots, kill and replacement, a worker that dies, workers that cannot start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trainplan.train import local
from trainplan.train.executor import AttemptResult, AttemptSpec, TrainerPayload
from trainplan.train.local import LocalExecutor, WorkersCannotStart

from tests.conftest import REPO
from tests.train_support import TRAINER, alive, plan_document, wait_until


@pytest.fixture()
def executor() -> Iterator[LocalExecutor]:
    ex = LocalExecutor(2, TrainerPayload(TRAINER, str(REPO)))
    wait_until(lambda: ex.wait(0.05) == [] and ex.free_slots() == 2, "two ready workers")
    yield ex
    ex.close()


def _spec(tmp_path: Path, key: int, symbol: str = "A") -> AttemptSpec:
    job = next(j for j in plan_document(targets=("t",), symbols=(symbol,), cs_jobs=False)["jobs"])
    return AttemptSpec(key, job, 0, "run", "plan", 1, str(tmp_path / f"attempt-{key}"))


def _results(ex: LocalExecutor, n: int) -> list[AttemptResult]:
    out: list[AttemptResult] = []
    wait_until(lambda: bool(out.extend(ex.wait(0.05))) or len(out) >= n, f"{n} results")
    return out


def test_a_slot_is_taken_until_its_result_is_reported(executor: LocalExecutor, tmp_path: Path) -> None:
    executor.submit(_spec(tmp_path, 1))
    assert executor.free_slots() == 1
    (result,) = _results(executor, 1)
    assert result.outcome == "ok" and result.key == 1 and result.metrics is not None
    assert executor.free_slots() == 2


def test_cancel_kills_the_worker_group_and_a_fresh_worker_takes_the_slot(
    executor: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINPLAN_TEST_HANG", "sym_t_A")  # the worker was started before: it reads its env at start
    hang = LocalExecutor(1, TrainerPayload(TRAINER, str(REPO)))
    try:
        wait_until(lambda: hang.wait(0.05) == [] and hang.free_slots() == 1, "a ready worker")
        (old_pid,) = [w.pid for w in hang._workers]
        hang.submit(_spec(tmp_path, 7))
        wait_until(lambda: "hangs" in Path(tmp_path, "attempt-7", "output.log").read_text(errors="replace")
                   if Path(tmp_path, "attempt-7", "output.log").exists() else False, "the job to start")  # fmt: skip
        hang.cancel(7)
        (result,) = _results(hang, 1)
        assert result.outcome == "killed" and result.exit_code == -9 and result.pid == old_pid
        assert "hangs" in result.output_tail
        wait_until(lambda: hang.wait(0.05) == [] and hang.free_slots() == 1, "a fresh worker")
        assert [w.pid for w in hang._workers] != [old_pid] and not alive(old_pid)
    finally:
        hang.close()


def test_a_worker_that_dies_fails_its_attempt_and_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINPLAN_TEST_EXIT", "sym_t_A")
    ex = LocalExecutor(1, TrainerPayload(TRAINER, str(REPO)))
    try:
        wait_until(lambda: ex.wait(0.05) == [] and ex.free_slots() == 1, "a ready worker")
        ex.submit(_spec(tmp_path, 3))
        (result,) = _results(ex, 1)
        assert result.outcome == "error" and result.exit_code == 3 and "exited with status 3" in (result.error or "")
        wait_until(lambda: ex.wait(0.05) == [] and ex.free_slots() == 1, "a fresh worker")
        ex.submit(_spec(tmp_path, 4, symbol="B"))
        (result,) = _results(ex, 1)
        assert result.outcome == "ok"
    finally:
        ex.close()


def test_a_dead_workers_second_event_in_one_poll_never_reaches_its_replacement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's exit shows twice (its pidfd and its result pipe's end); when both come in one poll, the first
    reaps it and spawns a replacement, which can get the same fd numbers: the second must not be taken as the
    replacement's (it would wait for it to exit, count a failed start and kill it)."""
    monkeypatch.setenv("TRAINPLAN_TEST_EXIT", "sym_t_A")
    spawned: list[int] = []

    class Counted(LocalExecutor):
        def _spawn(self) -> Any:
            worker = super()._spawn()
            spawned.append(worker.pid)
            return worker

    ex = Counted(1, TrainerPayload(TRAINER, str(REPO)))
    try:
        wait_until(lambda: ex.wait(0.05) == [] and ex.free_slots() == 1, "a ready worker")
        (dying,) = ex._workers
        ex.submit(_spec(tmp_path, 3))
        wait_until(lambda: ex._exited(dying), "the worker to exit")  # both its events are pending now
        (result,) = ex.wait(0.05)
        assert result.outcome == "error" and result.exit_code == 3
        wait_until(lambda: ex.wait(0.05) == [] and ex.free_slots() == 1, "the replacement ready")
        assert len(spawned) == 2, spawned  # the first worker and one replacement, never killed and spawned again
        assert [w.pid for w in ex._workers] == spawned[1:] and alive(spawned[1])
        assert ex._start_failures == 0
    finally:
        ex.close()


def test_a_job_given_to_a_worker_that_died_idle_is_reported_lost(tmp_path: Path) -> None:
    ex = LocalExecutor(1, TrainerPayload(TRAINER, str(REPO)))
    try:
        wait_until(lambda: ex.wait(0.05) == [] and ex.free_slots() == 1, "a ready worker")
        (idle,) = ex._workers
        os.killpg(idle.pid, signal.SIGKILL)
        wait_until(lambda: ex._exited(idle), "the idle worker to die")  # not noticed yet: no wait() since
        ex.submit(_spec(tmp_path, 5))  # its task pipe is broken
        (result,) = _results(ex, 1)
        assert result.key == 5 and result.outcome == "error" and result.error == "the worker died of signal SIGKILL"
        wait_until(lambda: ex.wait(0.05) == [] and ex.free_slots() == 1, "a fresh worker")
    finally:
        ex.close()


@pytest.mark.parametrize("parent", ["prompt", "slow"])
def test_workers_that_cannot_start_are_an_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: str
) -> None:
    """`slow`: the parent is held up right after starting a worker (a loaded machine), so the worker has exited
    before the parent sends it the payload: still the same one-line error, not a BrokenPipeError."""

    class Broken(LocalExecutor):
        worker_command = (sys.executable, "-c", "import sys; sys.stderr.write('no trainplan here'); sys.exit(3)")

    if parent == "slow":

        class SlowParent(subprocess.Popen):  # type: ignore[type-arg]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)  # it has exited (not reaped: the executor reaps)

        monkeypatch.setattr(local.subprocess, "Popen", SlowParent)
    executor = Broken(2, TrainerPayload(TRAINER, str(tmp_path)))
    try:
        with pytest.raises(WorkersCannotStart, match="no trainplan here"):
            for _ in range(1000):
                assert executor.free_slots() == 0
                executor.wait(0.1)
    finally:
        executor.close()
