"""`trainplan train` on small fake plans: what runs, in which order, with what, and how each failure is recorded."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.train_support import (
    TRAINER,
    alive,
    cli,
    ends,
    plan_document,
    records,
    runnable_ids,
    started,
    train,
    wait_until,
    write_plan,
)


def _distinct_families(doc: dict[str, Any]) -> dict[str, Any]:
    """Give every job its own families and excluded features, so a plan-wide value cannot pass for a job's."""
    pool = ["lightgbm", "xgboost", "catboost", "lasso", "ridge"]
    for i, job in enumerate(doc["jobs"]):
        if job["training_type"] != "blocked":
            job["model_families"] = pool[i % len(pool) : i % len(pool) + 1 + i % 2]
            job["excluded_features"] = [f"feat_{i:03d}", f"leaky_{job['job_id']}"]
    return doc


def test_every_runnable_job_runs_once_with_its_own_families(tmp_path: Path) -> None:
    doc = _distinct_families(plan_document(blocked_symbols=("CCC",)))
    root = write_plan(tmp_path / "plan", doc)
    code, out = train(root, tmp_path / "ledger", "--trainer", TRAINER, "--workers", "2")
    assert code == 0, out
    done = ends(tmp_path / "ledger")
    assert sorted(r["job_id"] for r in done) == sorted(runnable_ids(doc))
    assert {r["status"] for r in done} == {"succeeded"}
    assert {r["training_type"] for r in done} == {"cross_sectional", "symbol_specific"}
    by_id = {j["job_id"]: j for j in doc["jobs"]}
    for rec in done:
        job = by_id[rec["job_id"]]
        assert rec["metrics"]["families"] == job["model_families"]
        assert rec["metrics"]["excluded_features"] == job["excluded_features"]
        assert rec["metrics"]["symbol"] == job["symbol"]
        assert rec["metrics"]["plan_id"] == doc["metadata"]["plan_id"]
        assert rec["route"] == job["route"] and rec["attempt"] == 1
        assert "model.txt" in rec["artifacts"] and "output.log" in rec["artifacts"]
        assert Path(rec["artifacts_dir"], "model.txt").read_text() == rec["job_id"]
        assert f"trained {rec['job_id']} attempt 1" in rec["output_tail"]
    assert "blocked_ta_CCC" not in {r["job_id"] for r in records(tmp_path / "ledger")}
    assert "jobs by route" in out and "ROUTE_BOTH" in out


def test_higher_priority_first_then_plan_order(tmp_path: Path) -> None:
    doc = plan_document(targets=("t1", "t2", "t3"), symbols=("A", "B", "C", "D"))
    root = write_plan(tmp_path / "plan", doc)
    log = tmp_path / "starts.log"
    code, out = train(
        root, tmp_path / "ledger", "--trainer", TRAINER, "--workers", "1", env={"TRAINPLAN_TEST_LOG": str(log)}
    )
    assert code == 0, out
    expected = [j["job_id"] for j in sorted(doc["jobs"], key=lambda j: -j["priority"])]  # stable: then plan order
    assert started(log) == expected
    priorities = [next(j["priority"] for j in doc["jobs"] if j["job_id"] == jid) for jid in started(log)]
    assert priorities == sorted(priorities, reverse=True) and len(set(priorities)) == 3


def test_a_raising_or_dying_trainer_fails_only_its_job(tmp_path: Path) -> None:
    doc = plan_document()
    root = write_plan(tmp_path / "plan", doc)
    env = {"TRAINPLAN_TEST_FAIL": "sym_ta_AAA", "TRAINPLAN_TEST_EXIT": "cs_tb"}
    code, out = train(root, tmp_path / "ledger", "--trainer", TRAINER, "--workers", "2", env=env)
    assert code == 1
    status = {r["job_id"]: r for r in ends(tmp_path / "ledger")}
    assert status["sym_ta_AAA"]["status"] == "failed"
    assert status["sym_ta_AAA"]["error"] == "RuntimeError: sym_ta_AAA failed on purpose"
    assert "Traceback" in status["sym_ta_AAA"]["output_tail"]
    assert status["cs_tb"]["status"] == "failed" and status["cs_tb"]["exit_code"] == 3
    assert "exited with status 3" in status["cs_tb"]["error"]
    others = runnable_ids(doc) - {"sym_ta_AAA", "cs_tb"}
    assert {status[j]["status"] for j in others} == {"succeeded"}
    assert "failed on purpose" in out


def test_a_hanging_job_times_out_alone(tmp_path: Path) -> None:
    doc = plan_document()
    root = write_plan(tmp_path / "plan", doc)
    env = {"TRAINPLAN_TEST_HANG": "sym_tb_BBB"}
    # 5 s covers a normal job on a busy machine; only the hanging one waits for it
    code, out = train(root, tmp_path / "ledger", "--trainer", TRAINER, "--workers", "2", "--timeout", "5", env=env)
    assert code == 1
    status = {r["job_id"]: r for r in ends(tmp_path / "ledger")}
    assert status["sym_tb_BBB"]["status"] == "timed_out"
    assert "timed out after 5 s" in status["sym_tb_BBB"]["error"]
    assert "sym_tb_BBB hangs" in status["sym_tb_BBB"]["output_tail"]
    assert {status[j]["status"] for j in runnable_ids(doc) - {"sym_tb_BBB"}} == {"succeeded"}
    assert "timed_out" in out


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    doc = plan_document(targets=("t",), symbols=("A",), cs_jobs=False)
    root = write_plan(tmp_path / "plan", doc)
    log = tmp_path / "pids.json"
    code, _ = train(
        root,
        tmp_path / "ledger",
        "--trainer",
        "tests.trainers.behave:spawn_and_hang",
        "--timeout",
        "3",
        env={"TRAINPLAN_TEST_LOG": str(log)},
    )
    assert code == 1
    pids = json.loads(log.read_text())
    wait_until(lambda: not alive(pids["child"]) and not alive(pids["worker"]), "the trainer's child to be killed", 10)
    (rec,) = ends(tmp_path / "ledger")
    assert rec["status"] == "timed_out" and rec["pid"] == pids["worker"]


def test_retries_make_new_attempts_after_a_backoff(tmp_path: Path) -> None:
    doc = plan_document(targets=("t",), symbols=("A", "B"))
    root = write_plan(tmp_path / "plan", doc)
    code, out = train(
        root,
        tmp_path / "ledger",
        "--trainer",
        "tests.trainers.behave:flaky",
        "--retries",
        "2",
        "--retry-backoff",
        "0.05",
    )
    assert code == 0, out
    for job_id in runnable_ids(doc):
        attempts = [(r["attempt"], r["status"]) for r in ends(tmp_path / "ledger") if r["job_id"] == job_id]
        assert attempts == [(1, "failed"), (2, "succeeded")]
        folders = {r["artifacts_dir"] for r in records(tmp_path / "ledger") if r["job_id"] == job_id}
        assert len(folders) == 2  # each attempt writes into a folder of its own


def test_without_retries_a_failure_is_final(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document(targets=("t",), symbols=("A",), cs_jobs=False))
    code, _ = train(root, tmp_path / "ledger", "--trainer", "tests.trainers.behave:flaky")
    assert code == 1
    assert [(r["attempt"], r["status"]) for r in ends(tmp_path / "ledger")] == [(1, "failed")]


def test_megabytes_of_output_go_to_the_file_and_4_kb_to_the_ledger(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document(targets=("t",), symbols=("A", "B"), cs_jobs=False))
    code, out = train(root, tmp_path / "ledger", "--trainer", "tests.trainers.behave:loud", "--workers", "2")
    assert code == 0, out
    for rec in ends(tmp_path / "ledger"):
        log = Path(rec["artifacts_dir"], "output.log")
        assert log.stat().st_size > 8 * 1024 * 1024
        assert len(rec["output_tail"].encode()) <= 4096
        assert rec["output_tail"].endswith("LAST LINE OF STDOUT\nstderr says goodbye\n")
    assert len(out) < 20_000  # nothing of it reached the console


def test_metrics_are_strict_json_and_must_be_a_dict(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document(targets=("t",), symbols=("A",), cs_jobs=False))
    code, _ = train(root, tmp_path / "l1", "--trainer", "tests.trainers.behave:nan_metrics")
    assert code == 0
    (rec,) = ends(tmp_path / "l1")
    assert rec["metrics"] == {"score": None, "inf": None, "ok": 1.5}
    code, _ = train(root, tmp_path / "l2", "--trainer", "tests.trainers.behave:not_a_dict")
    assert code == 1
    (rec,) = ends(tmp_path / "l2")
    assert rec["status"] == "failed" and "returned list" in rec["error"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tests.trainers.nope:train", "no module named 'tests.trainers.nope'"),
        ("tests.trainers.behave:nope", "has no attribute 'nope'"),
        ("tests.trainers.behave:NOT_CALLABLE", "is not callable"),
        ("tests.trainers.behave", "expected module:function"),
        ("tests/trainers/missing.py:train", "no such file"),
        ("tests.trainers.behave:_ids", "must accept (job, context)"),
    ],
)
def test_an_unknown_trainer_is_refused_before_any_job(tmp_path: Path, spec: str, message: str) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    log = tmp_path / "starts.log"
    code, out = train(root, tmp_path / "ledger", "--trainer", spec, env={"TRAINPLAN_TEST_LOG": str(log)})
    assert code == 2
    assert message in out and out.startswith("error:")
    assert not log.exists() and not (tmp_path / "ledger").exists()


def test_the_path_form_of_a_trainer(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document(targets=("t",), symbols=("A",)))
    code, out = train(root, tmp_path / "ledger", "--trainer", "tests/trainers/behave.py:train")
    assert code == 0, out
    assert len(ends(tmp_path / "ledger")) == 2


def test_trainer_and_command_are_exclusive_and_one_is_needed(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    code, out = train(root, tmp_path / "ledger")
    assert code == 2 and "nothing to train with" in out
    code, out = train(root, tmp_path / "ledger", "--trainer", TRAINER, "--command", "--", "true")
    assert code == 2 and "not both" in out
    code, out = train(root, tmp_path / "ledger", "stray")
    assert code == 2


HOSTILE = ("; rm -rf /", "$(touch pwned)", "{target}", "a b", "'\"`", "../../escape", "-rf")


def test_command_placeholders_are_literal_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = plan_document(targets=("tgt",), symbols=HOSTILE, cs_jobs=True)
    root = write_plan(tmp_path / "plan", doc)
    monkeypatch.chdir(tmp_path)
    script = "import json, sys; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))"
    code, out = train(
        root, tmp_path / "ledger", "--command", "--",
        sys.executable, "-c", script, "{artifacts_dir}/args.json",
        "{symbol}", "{job_id}", "pre-{target}-post", "{families}", "{training_type}", "{{literal}}", "{job_file}",
    )  # fmt: skip
    assert code == 0, out
    done = ends(tmp_path / "ledger")
    assert len(done) == len(HOSTILE) + 1
    for rec in done:
        job = next(j for j in doc["jobs"] if j["job_id"] == rec["job_id"])
        args = json.loads(Path(rec["artifacts_dir"], "args.json").read_text())
        job_file = str(Path(rec["artifacts_dir"], "job.json"))
        assert args == [
            job["symbol"] or "", job["job_id"], "pre-tgt-post", "lightgbm,xgboost", job["training_type"], "{literal}",
            job_file,
        ]  # fmt: skip
        assert json.loads(Path(job_file).read_text()) == job
        assert Path(rec["artifacts_dir"]).is_relative_to(tmp_path / "ledger" / "artifacts")
    assert not (tmp_path / "pwned").exists()


def test_a_command_exit_status_and_its_metrics_file(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document(targets=("t",), symbols=("A", "B"), cs_jobs=False))
    script = (
        "import json, os, sys; d = os.environ['TRAINPLAN_ARTIFACTS_DIR']; "
        "open(os.path.join(d, 'metrics.json'), 'w').write(json.dumps({'auc': 0.75, 'job': sys.argv[1]})); "
        "print('out of', sys.argv[1]); sys.exit(4 if sys.argv[2] == 'B' else 0)"
    )
    code, _ = train(root, tmp_path / "ledger", "--command", "--", sys.executable, "-c", script, "{job_id}", "{symbol}")
    assert code == 1
    status = {r["job_id"]: r for r in ends(tmp_path / "ledger")}
    assert status["sym_t_A"]["status"] == "succeeded" and status["sym_t_A"]["exit_code"] == 0
    assert status["sym_t_A"]["metrics"] == {"auc": 0.75, "job": "sym_t_A"}
    assert status["sym_t_A"]["output_tail"] == "out of sym_t_A\n"
    assert status["sym_t_B"]["status"] == "failed" and status["sym_t_B"]["exit_code"] == 4


@pytest.mark.parametrize(
    ("command", "message"),
    [(["{nope}"], "unknown placeholder {nope}"), (["no-such-program-here", "{job_id}"], "not found")],
)
def test_a_command_that_cannot_work_is_refused(tmp_path: Path, command: list[str], message: str) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    code, out = train(root, tmp_path / "ledger", "--command", "--", *command)
    assert code == 2 and message in out
    assert not (tmp_path / "ledger").exists()


def test_dry_run_lists_what_would_run_and_why_the_rest_is_skipped(tmp_path: Path) -> None:
    doc = plan_document(blocked_symbols=("CCC",))
    root = write_plan(tmp_path / "plan", doc)
    code, out = train(root, tmp_path / "ledger", "--dry-run", "--target", "ta", "--route", "both")
    assert code == 0, out
    assert "would run 1 jobs" in out and "sym_ta_AAA" in out
    assert "filtered out by --target" in out and "filtered out by --route" in out
    assert "not runnable (training_type blocked)" in out
    assert not (tmp_path / "ledger").exists()


def test_filters_choose_the_jobs(tmp_path: Path) -> None:
    doc = plan_document(targets=("t1", "t2"), symbols=("A", "B", "C"))
    root = write_plan(tmp_path / "plan", doc)
    code, _ = train(
        root, tmp_path / "ledger", "--trainer", TRAINER, "--type", "symbol_specific", "--symbol", "A", "--symbol", "B"
    )
    assert code == 0
    assert sorted(r["job_id"] for r in ends(tmp_path / "ledger")) == ["sym_t1_A", "sym_t1_B", "sym_t2_A", "sym_t2_B"]
    for bad in (["--symbol", "ZZZ"], ["--target", "nope"], ["--route", "ROUTE_NOPE"], ["--type", "blocked"]):
        code, out = train(root, tmp_path / "other", "--trainer", TRAINER, *bad)
        assert code == 2 and out.startswith("error:"), bad


def test_runs_lists_runs_and_one_runs_jobs(tmp_path: Path) -> None:
    doc = plan_document(targets=("t",), symbols=("A", "B"))
    root = write_plan(tmp_path / "plan", doc)
    ledger = tmp_path / "ledger"
    assert train(root, ledger, "--trainer", TRAINER, "--run", "first")[0] == 0
    assert train(root, ledger, "--trainer", TRAINER, "--run", "second", env={"TRAINPLAN_TEST_FAIL": "sym_t_B"})[0] == 1
    code, out = cli("runs", "--ledger", str(ledger))
    assert code == 0, out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert set(lines) >= {"first", "second"}
    assert doc["metadata"]["plan_id"] in lines["first"] and "finished" in lines["second"]
    code, out = cli("runs", "--ledger", str(ledger), "second")
    assert code == 0
    assert "sym_t_B" in out and "failed" in out and "succeeded: 2" in out and "failed: 1" in out
    code, out = cli("runs", "--ledger", str(ledger), "nope")
    assert code == 2 and "no run nope" in out
    code, out = train(root, ledger, "--trainer", TRAINER, "--run", "first")
    assert code == 2 and "already exists" in out
