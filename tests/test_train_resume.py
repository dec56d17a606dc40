"""Killing `train` (SIGKILL at several moments, Ctrl-C once and twice) and `--resume`: nothing lost, nothing twice."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest
from trainplan.train import ledger as L

from tests.train_support import (
    TRAINER,
    alive,
    gated,
    interrupt_twice,
    kill,
    plan_document,
    read_until,
    records,
    runnable_ids,
    start_train,
    started,
    train,
    wait_until,
    write_plan,
)


def _succeeded(ledger: Path) -> Counter[str]:
    return Counter(r["job_id"] for r in records(ledger) if r["status"] == "succeeded")


def _pids(log: Path) -> set[int]:
    return {int(line.split()[1]) for line in log.read_text().splitlines()} if log.exists() else set()


@pytest.mark.parametrize("moment", ["first_jobs_in_flight", "after_some_ended", "between_records", "torn_record"])
def test_sigkill_then_resume_trains_every_job_exactly_once(tmp_path: Path, moment: str) -> None:
    doc = plan_document(targets=("t1", "t2", "t3"), symbols=("A", "B", "C", "D"), blocked_symbols=("D",))
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, gate, env = gated(tmp_path)
    if moment == "after_some_ended" or moment == "torn_record":
        env["TRAINPLAN_TEST_STOP_AFTER"] = "4"
    if moment == "between_records":  # no gate: jobs end all the time; kill after a few end records
        env = {"TRAINPLAN_TEST_LOG": str(log), "TRAINPLAN_TEST_SLEEP": "0.05"}
    proc = start_train(root, ledger, "--trainer", TRAINER, "--workers", "2", env=env)
    try:
        if moment == "first_jobs_in_flight":
            wait_until(lambda: len(started(log)) == 2, "two jobs in flight")
        elif moment == "between_records":
            wait_until(lambda: sum(_succeeded(ledger).values()) >= 3, "three jobs to end")
        else:
            wait_until(lambda: sum(_succeeded(ledger).values()) == 4 and len(started(log)) == 6, "4 ended, 2 in flight")
        in_flight_pids = _pids(log)
        kill(proc)
    finally:
        if proc.poll() is None:
            kill(proc)
    # the workers (and the trainers in them) die with the run
    wait_until(lambda: not any(alive(pid) for pid in in_flight_pids), "the orphaned workers to die", 10)
    before = _succeeded(ledger)
    dangling = [r for r in L.read_run(L.run_files(ledger)[0]).dangling()]
    assert dangling or moment == "between_records"
    if moment == "torn_record":
        with L.run_files(ledger)[0].open("ab") as handle:
            handle.write(b'{"record":"attempt","run_id":"x","job_id":"sym_t1_A","status":"succ')

    gate.touch()
    code, out = train(
        root, ledger, "--trainer", TRAINER, "--workers", "2", "--resume", env={"TRAINPLAN_TEST_LOG": str(log)}
    )
    assert code == 0, out
    after = _succeeded(ledger)
    assert set(after) == runnable_ids(doc)
    assert all(n == 1 for n in after.values()), after  # every job succeeded exactly once
    assert set(before) <= set(after)
    resumed = started(log)[len(started(log)) - (len(runnable_ids(doc)) - len(before)) :]
    assert not set(resumed) & set(before)  # nothing that had succeeded ran again
    (run_file,) = L.run_files(ledger)
    log_after = L.read_run(run_file)
    assert len(log_after.sessions) == 2 and log_after.sessions[1]["resumed"] is True
    assert not log_after.dangling()
    for rec in dangling:  # each attempt in flight at the kill got its end record, and ran again
        end = log_after.attempts[(rec["job_id"], rec["attempt"])]
        assert end["status"] == "interrupted" and "recorded by --resume" in end["error"]
        assert log_after.attempts[(rec["job_id"], rec["attempt"] + 1)]["status"] == "succeeded"
    if moment == "torn_record":
        assert "repaired" in out and "torn" in out


def test_resume_skips_what_succeeded_and_dry_run_says_so(tmp_path: Path) -> None:
    doc = plan_document()
    root = write_plan(tmp_path / "plan", doc)
    ledger = tmp_path / "ledger"
    code, _ = train(root, ledger, "--trainer", TRAINER, env={"TRAINPLAN_TEST_FAIL": "sym_ta_AAA"})
    assert code == 1
    code, out = train(root, ledger, "--dry-run", "--resume")
    assert code == 0
    assert "would run 1 jobs" in out and "already succeeded under this plan_id" in out
    code, out = train(root, ledger, "--trainer", TRAINER, "--resume")
    assert code == 0, out
    assert [(r["job_id"], r["attempt"], r["status"]) for r in records(ledger) if r["session"] == 2] == [
        ("sym_ta_AAA", 2, "running"),
        ("sym_ta_AAA", 2, "succeeded"),
    ]
    code, out = train(root, ledger, "--trainer", TRAINER, "--resume")
    assert code == 0 and "no job to run" in out


def test_resume_refuses_another_plan_and_unknown_runs(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    ledger = tmp_path / "ledger"
    code, out = train(root, ledger, "--trainer", TRAINER, "--resume")
    assert code == 2 and "no run in the ledger" in out
    assert train(root, ledger, "--trainer", TRAINER, "--run", "one")[0] == 0
    code, out = train(root, ledger, "--trainer", TRAINER, "--resume", "--run", "two")
    assert code == 2 and "no run two" in out
    other = write_plan(tmp_path / "other", plan_document(targets=("zz",)))
    code, out = train(other, ledger, "--trainer", TRAINER, "--resume")
    assert code == 2 and "trained plan" in out


def test_ctrl_c_once_lets_running_jobs_finish_and_records_the_rest(tmp_path: Path) -> None:
    doc = plan_document()
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, gate, env = gated(tmp_path)
    proc = start_train(root, ledger, "--trainer", TRAINER, "--workers", "2", env=env)
    try:
        wait_until(lambda: len(started(log)) == 2, "two jobs in flight")
        proc.send_signal(signal.SIGINT)
        seen = read_until(proc, "interrupted:")
        gate.touch()
        out, _ = proc.communicate(timeout=120)
        out = seen + out
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode == 1, out
    assert "interrupted" in out and "--resume" in out
    final = {r["job_id"]: r["status"] for r in records(ledger) if r["status"] != "running"}
    assert sorted(final.values()).count("succeeded") == 2
    assert set(final) == runnable_ids(doc)  # every job's state is recorded
    assert {s for j, s in final.items() if j not in started(log)} == {"interrupted"}
    (session_end,) = records(ledger, kind="session_end")
    assert session_end["outcome"] == "interrupted"


def test_ctrl_c_twice_cancels_running_jobs(tmp_path: Path) -> None:
    doc = plan_document()
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, _, env = gated(tmp_path)
    proc = start_train(root, ledger, "--trainer", TRAINER, "--workers", "2", env=env)
    try:
        wait_until(lambda: len(started(log)) == 2, "two jobs in flight")
        pids = _pids(log)
        out = interrupt_twice(proc)
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode == 1, out
    final = {r["job_id"]: r["status"] for r in records(ledger) if r["status"] != "running"}
    assert set(final) == runnable_ids(doc)
    assert sorted(s for j, s in final.items() if j in started(log)) == ["cancelled", "cancelled"]
    assert {s for j, s in final.items() if j not in started(log)} == {"interrupted"}
    assert not any(alive(pid) for pid in pids)
    (session_end,) = records(ledger, kind="session_end")
    assert session_end["outcome"] == "cancelled"
