"""Faults while `trainplan train` writes its ledger: SIGKILL at seeded random moments, a torn last record, a second
`train` on the same ledger, a full disk. After each, `--resume` trains exactly the rest: every runnable job
succeeds exactly once in the ledger and no job runs again after it succeeded."""

from __future__ import annotations

import errno
import os
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from trainplan.train import ledger as L

from tests.train_support import (
    TRAINER,
    alive,
    cli,
    gated,
    kill,
    plan_document,
    records,
    runnable_ids,
    start_train,
    started,
    train,
    wait_until,
    write_plan,
)


def _plan(tmp_path: Path) -> tuple[Path, set[str]]:
    doc = plan_document(targets=("t1", "t2", "t3"), symbols=("A", "B", "C", "D"), blocked_symbols=("D",))
    return write_plan(tmp_path / "plan", doc), runnable_ids(doc)


def _assert_exactly_once(ledger: Path, runnable: set[str]) -> None:
    """Every runnable job succeeded exactly once, and none was attempted again after its success."""
    ran = records(ledger)
    succeeded = Counter(r["job_id"] for r in ran if r["status"] == L.SUCCEEDED)
    assert set(succeeded) == runnable and all(n == 1 for n in succeeded.values()), succeeded
    attempts: dict[str, list[int]] = defaultdict(list)
    for r in ran:
        attempts[r["job_id"]].append(r["attempt"])
    for r in ran:
        if r["status"] == L.SUCCEEDED:
            assert max(attempts[r["job_id"]]) == r["attempt"], r["job_id"]
    for path in L.run_files(ledger):
        assert not L.read_run(path).dangling()


def _wait_for_orphans(log: Path) -> None:
    pids = {int(line.split()[1]) for line in log.read_text().splitlines()} if log.exists() else set()
    wait_until(lambda: not any(alive(pid) for pid in pids), "the killed run's workers to die", 10)


@pytest.mark.parametrize("seed", [11, 23, 37])
def test_sigkill_at_random_moments_then_resume_finishes_exactly_the_rest(tmp_path: Path, seed: int) -> None:
    """A run and then its first resume are each killed after a seeded random delay; a last resume finishes."""
    rng = random.Random(seed)
    root, runnable = _plan(tmp_path)
    ledger, log = tmp_path / "ledger", tmp_path / "starts.log"
    env = {"TRAINPLAN_TEST_LOG": str(log), "TRAINPLAN_TEST_SLEEP": "0.05"}
    for extra in ((), ("--resume",)):
        proc = start_train(root, ledger, "--trainer", TRAINER, "--workers", "2", *extra, env=env)
        try:
            wait_until(lambda p=proc: bool(L.run_files(ledger)) or p.poll() is not None, "the run file")
            time.sleep(rng.uniform(0.0, 0.5))  # not an assertion on time: only where the kill lands
        finally:
            kill(proc)
        _wait_for_orphans(log)
        for path in L.run_files(ledger):
            L.read_run(path)  # readable whatever the moment
    code, out = train(root, ledger, "--trainer", TRAINER, "--workers", "2", "--resume", env=env)
    assert code == 0, out
    _assert_exactly_once(ledger, runnable)
    assert len(L.run_files(ledger)) == 1  # one run, resumed: never a second run file


def test_a_torn_last_record_is_reported_and_its_attempt_runs_again(tmp_path: Path) -> None:
    root, runnable = _plan(tmp_path)
    ledger = tmp_path / "ledger"
    code, out = train(root, ledger, "--trainer", TRAINER, "--workers", "2")
    assert code == 0, out
    (run_file,) = L.run_files(ledger)
    lines = run_file.read_bytes().splitlines(keepends=True)
    # as if killed while writing the last job's end record: session_end gone, the end record cut in half
    last_end = max(i for i, line in enumerate(lines) if b'"status":"succeeded"' in line)
    torn_job = L.read_run(run_file).attempts  # before tearing: every job succeeded
    assert all(r["status"] == L.SUCCEEDED for r in torn_job.values())
    cut = [*lines[:last_end], lines[last_end][: len(lines[last_end]) // 2]]
    run_file.write_bytes(b"".join(cut))

    log = L.read_run(run_file)
    assert log.torn == [last_end + 1]  # seen, with its line number; not fatal
    (dangling,) = log.dangling()  # the torn record's attempt has only its `running` record now
    code, out = cli("runs", "--ledger", str(ledger))
    assert code == 0, out
    assert f"1 torn record(s) skipped (line {last_end + 1}" in out.replace("\n", "")

    code, out = train(root, ledger, "--trainer", TRAINER, "--workers", "2", "--resume")
    assert code == 0, out
    assert "repaired" in out and "torn" in out and "1 jobs to run" in out
    _assert_exactly_once(ledger, runnable)
    after = L.read_run(run_file)
    assert after.attempts[(dangling["job_id"], dangling["attempt"])]["status"] == L.INTERRUPTED
    assert after.torn == [last_end + 1]  # still skipped, still reported, and the marker keeps it apart
    assert len(after.sessions) == 2


def test_a_second_train_on_the_ledger_is_refused_naming_the_first(tmp_path: Path) -> None:
    root, runnable = _plan(tmp_path)
    ledger, log, gate, env = gated(tmp_path)
    proc = start_train(root, ledger, "--trainer", TRAINER, "--workers", "2", env=env)
    try:
        wait_until(lambda: len(started(log)) == 2, "the first run's jobs to start")
        code, out = train(root, ledger, "--trainer", TRAINER, "--resume")
        assert code == 2
        (line,) = [x for x in out.splitlines() if x.startswith("error:")]
        assert line.startswith(f"error: the ledger {ledger} is in use by run ")
        assert f"(pid {proc.pid} on host " in line and "command `" in line and " train --plan " in line
        gate.touch()
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            kill(proc)
    _assert_exactly_once(ledger, runnable)  # the refused run wrote nothing


class _FullDisk:
    """os.write that fails with ENOSPC on the ledger's run file after `allowed` records (the first failing record
    half written, as a real full disk does), until `space_returns()`."""

    def __init__(self, allowed: int) -> None:
        self.real = os.write
        self.allowed = allowed
        self.full = False

    def space_returns(self) -> None:
        self.allowed, self.full = 10**9, False

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        if not os.readlink(f"/proc/self/fd/{fd}").endswith(L.RUN_SUFFIX):
            return self.real(fd, data)
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        if self.allowed == 0:
            self.full = True
            return self.real(fd, bytes(data[: len(data) // 2]))
        self.allowed -= 1
        return self.real(fd, data)


@pytest.mark.parametrize("allowed", [0, 7])  # the session record itself torn; a few attempts' records written
def test_a_full_disk_stops_the_run_in_one_line_and_resume_finishes_after_space_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed: int
) -> None:
    root, runnable = _plan(tmp_path)
    ledger, log = tmp_path / "ledger", tmp_path / "starts.log"
    env = {"TRAINPLAN_TEST_LOG": str(log), "TRAINPLAN_TEST_SLEEP": "0.02"}
    disk = _FullDisk(allowed)
    monkeypatch.setattr(os, "write", disk)
    code, out = train(root, ledger, "--trainer", TRAINER, "--workers", "2", env=env)
    assert code == 2
    error = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "Traceback" not in out
    (run_file,) = L.run_files(ledger)
    assert error[0].startswith(f"error: ledger {run_file}: cannot write a record (No space left on device); ")
    assert f"trainplan train --resume --run {run_file.name.removesuffix(L.RUN_SUFFIX)}" in out.replace("\n", "")
    _wait_for_orphans(log)  # the attempts in flight were killed with the run

    log_after = L.read_run(run_file)  # still readable: the half-written record is a torn line
    assert log_after.torn == [allowed + 1] and len(log_after.sessions) == min(allowed, 1) and not log_after.ends
    code, out = train(root, ledger, "--trainer", TRAINER, "--resume", env=env)
    assert code == 2 and "cannot write a record" in out  # still full: refused again, cleanly (the lock was freed)

    disk.space_returns()
    code, out = train(root, ledger, "--trainer", TRAINER, "--workers", "2", "--resume", env=env)
    assert code == 0, out
    assert "repaired" in out
    _assert_exactly_once(ledger, runnable)


def test_an_artifacts_folder_that_cannot_be_written_fails_the_attempts_not_the_workers(tmp_path: Path) -> None:
    """A full disk under --artifacts behaves the same; a path under a file fails the same way, as root too."""
    root, runnable = _plan(tmp_path)
    ledger, blocker = tmp_path / "ledger", tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = ("--workers", "2", "--artifacts", str(blocker / "art"))
    for session, extra in ((1, ("--trainer", TRAINER)), (2, ("--resume", "--command", "--", "true"))):
        code, out = train(root, ledger, *bad, *extra)
        assert code == 1, out
        assert "Traceback" not in out and "trainplan bug" not in out
        ended = [r for r in records(ledger) if r["status"] != L.RUNNING and r["session"] == session]
        assert len(ended) == len(runnable) and {r["status"] for r in ended} == {L.FAILED}
        assert all(r["error"].startswith(f"cannot write the attempt's folder {blocker / 'art'}/") for r in ended)
    code, out = train(root, ledger, "--trainer", TRAINER, "--workers", "2", "--resume")
    assert code == 0, out
    _assert_exactly_once(ledger, runnable)
