"""The job ledger: torn records, the lock, and SQL over the ledger (also while a run writes it)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import duckdb
import pytest
from trainplan.train import ledger as L
from trainplan.train.ledger_sql import COLUMNS, ledger_views
from trainplan.train.lock import Holder, LedgerBusy, LedgerLock, current_holder

from tests.conftest import Built
from tests.train_support import (
    TRAINER,
    cli,
    gated,
    kill,
    plan_document,
    records,
    start_train,
    started,
    train,
    wait_until,
    write_plan,
)


def _views(ledger: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for statement in ledger_views(ledger):
        con.execute(statement)
    return con


def test_a_torn_last_record_is_skipped_ended_and_reported(tmp_path: Path) -> None:
    path = L.run_file(tmp_path, "r")
    writer = L.LedgerWriter(path)
    writer.append({"record": "session", "run_id": "r", "session": 1, "plan_id": "p"})
    writer.append({"record": "attempt", "run_id": "r", "job_id": "a", "attempt": 1, "status": "succeeded"})
    writer.close()
    torn = b'{"record":"attempt","run_id":"r","job_id":"b","metrics":{"x":'
    with path.open("ab") as handle:
        handle.write(torn)
    assert [r["job_id"] for r in L.read_records(path) if r["record"] == "attempt"] == ["a"]

    writer = L.LedgerWriter(path, next_seq=3)
    assert writer.repair is not None and writer.repair.torn_bytes == len(torn)
    assert "torn" in writer.repair.describe()
    writer.append({"record": "attempt", "run_id": "r", "job_id": "c", "attempt": 1, "status": "succeeded"})
    writer.close()
    assert L.LedgerWriter(path).repair is None  # ended once, not again

    log = L.read_run(path)
    assert sorted(job for job, _ in log.attempts) == ["a", "c"] and log.last_seq == 3
    con = _views(tmp_path)  # DuckDB skips the torn line and does not swallow the record after it
    assert sorted(r[0] for r in con.execute("select job_id from training_attempts").fetchall()) == ["a", "c"]


def test_every_record_key_has_a_typed_column(tmp_path: Path) -> None:
    doc = plan_document(targets=("t",), symbols=("A",))
    root = write_plan(tmp_path / "plan", doc)
    assert train(root, tmp_path / "ledger", "--trainer", TRAINER, "--fsync")[0] == 0
    keys = {k for r in records(tmp_path / "ledger", kind=None) for k in r}
    assert keys <= set(COLUMNS)
    con = _views(tmp_path / "ledger")
    run = con.execute("select outcome, sessions, jobs_selected, succeeded, running from training_runs").fetchall()
    assert run == [("finished", 1, 2, 2, 0)]
    metrics = con.execute("select metrics->>'$.job_id', job_id from training_job_status").fetchall()
    assert all(m == j for m, j in metrics)


def test_the_views_exist_on_an_empty_ledger(tmp_path: Path) -> None:
    for ledger in (tmp_path / "none", None):
        con = duckdb.connect()
        for statement in ledger_views(ledger):
            con.execute(statement)
        for view in ("training_events", "training_attempts", "training_job_status", "training_runs"):
            assert con.execute(f"select count(*) from {view}").fetchone() == (0,)


def test_one_lock_per_ledger_naming_its_holder(tmp_path: Path) -> None:
    first = LedgerLock(tmp_path, Holder("run-1", os.getpid(), "hostA", "2026-01-01T00:00:00Z"))
    with pytest.raises(LedgerBusy, match=r"run run-1 \(pid \d+ on host hostA"):
        LedgerLock(tmp_path, Holder("run-2", os.getpid(), "hostB", "now"))
    assert current_holder(tmp_path) == Holder("run-1", os.getpid(), "hostA", "2026-01-01T00:00:00Z")
    first.release()
    assert current_holder(tmp_path) is None
    LedgerLock(tmp_path, Holder("run-3", 1, "h", "now")).release()  # free again


def test_a_second_train_on_the_ledger_refuses_naming_the_first(tmp_path: Path) -> None:
    doc = plan_document()
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, gate, env = gated(tmp_path)
    proc = start_train(root, ledger, "--trainer", TRAINER, "--workers", "2", "--run", "holder", env=env)
    try:
        wait_until(lambda: len(started(log)) == 2, "the first run to start its jobs")
        code, out = train(root, ledger, "--trainer", TRAINER, env=env)
        assert code == 2
        assert "run holder" in out and f"pid {proc.pid}" in out and socket.gethostname() in out
        assert len(started(log)) == 2  # the refused run started nothing
        gate.touch()
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode == 0, out
    assert [p.name for p in L.run_files(ledger)] == ["holder.jsonl"]


def test_sql_sees_the_ledger_while_a_run_writes_it(tmp_path: Path, sample_built: Built) -> None:
    ledger, log, gate, env = gated(tmp_path, stop_after=5)
    proc = start_train(
        sample_built.out_dir, ledger, "--trainer", TRAINER, "--workers", "2", "--db", str(sample_built.db_path), env=env
    )
    try:
        wait_until(lambda: len(started(log)) == 7, "5 jobs done and 2 in flight")
        wait_until(lambda: sum(r["status"] == "succeeded" for r in records(ledger)) == 5, "5 end records")
        query = (
            "select s.status, count(*) as n, count(j.job_id) as in_plan, count(d.route) as decided "
            "from training_job_status s join training_jobs j using (job_id) "
            "left join routing_decisions d on d.target = s.target and d.symbol is not distinct from s.symbol "
            "group by s.status order by s.status"
        )
        code, out = cli("sql", "--db", str(sample_built.db_path), "--ledger", str(ledger), query)
        assert code == 0, out
        rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]
        assert rows == [["running", "2", "2", "2"], ["succeeded", "5", "5", "5"]]
        code, out = cli("sql", "--db", str(sample_built.db_path), "--ledger", str(ledger),
                        "select outcome, running from training_runs")  # fmt: skip
        assert "open" in out and "│ 2 " in out
        code, out = cli("runs", "--ledger", str(ledger))
        assert code == 0 and "running" in out
        gate.touch()
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode == 0, out
    plan_jobs = json.loads(sample_built.master_plan.read_text())["jobs"]
    assert sorted(r["job_id"] for r in records(ledger) if r["status"] == "succeeded") == sorted(
        j["job_id"] for j in plan_jobs
    )
