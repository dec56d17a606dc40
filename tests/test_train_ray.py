"""`trainplan train --executor ray --address` on a real two-node Ray cluster started on this machine (one per
module, tests/ray_cluster.py): every job once on both nodes, a lost node's attempt retried, a dead worker's attempt
failed on a node that stays, a hanging trainer cancelled at --timeout, --resume after killing train, refusals before
the run. The node is killed last; tests/test_ray_lost_attempts.py fixes Ray's answers for each kind of loss."""

from __future__ import annotations

import json
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trainplan.train.ray_task import NODE_FILE

from tests.ray_cluster import ENV, HEAD, WORKER, RayCluster, short_temp_dir
from tests.test_train_run import _distinct_families
from tests.train_support import (
    TRAINER,
    alive,
    ends,
    gated,
    interrupt_twice,
    kill,
    plan_document,
    records,
    runnable_ids,
    start_train,
    started,
    wait_until,
    write_plan,
)

# waits that include starting `train`, connecting to the cluster and Ray's workers starting (or noticing a dead
# node): generous, since they only end early when the test passes
RAY_WAIT_S = 180


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    temp, owned = short_temp_dir(tmp_path_factory.mktemp("ray"))
    ray_cluster = RayCluster(temp, owned_temp=owned)
    try:
        yield ray_cluster.start()
    finally:
        ray_cluster.stop()


@pytest.fixture(scope="module")
def node_ids(cluster: RayCluster) -> dict[str, str]:
    return cluster.nodes()


def _train(cluster: RayCluster, root: Path, ledger: Path, *extra: str, env: dict[str, str] | None = None):
    proc = start_train(
        root, ledger, "--executor", "ray", "--address", cluster.address, "--no-progress", *extra, env=_env(env)
    )
    return proc


def _env(more: dict[str, str] | None) -> dict[str, str]:
    return {"RAY_AUTH_MODE": ENV["RAY_AUTH_MODE"], "RAY_USAGE_STATS_ENABLED": "0", **(more or {})}


def _run(cluster: RayCluster, root: Path, ledger: Path, *extra: str, env: dict[str, str] | None = None):
    proc = _train(cluster, root, ledger, *extra, env=env)
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


def _succeeded(ledger: Path) -> Counter[str]:
    return Counter(r["job_id"] for r in ends(ledger) if r["status"] == "succeeded")


def test_every_job_runs_once_with_its_families_on_both_nodes(
    cluster: RayCluster, node_ids: dict[str, str], tmp_path: Path
) -> None:
    doc = _distinct_families(plan_document(blocked_symbols=("CCC",)))
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, gate, env = gated(tmp_path)
    proc = _train(cluster, root, ledger, "--trainer", TRAINER, env=env)
    # two jobs held at the gate at once: one CPU per node and per job, so one runs on each node
    wait_until(lambda: len(started(log)) >= 2, "a job running on each node", timeout=RAY_WAIT_S)
    gate.touch()
    out, _ = proc.communicate(timeout=300)
    code = proc.returncode
    assert code == 0, out
    assert "2 nodes (tp-head, tp-worker)" in out
    done = ends(ledger)
    assert _succeeded(ledger) == Counter(runnable_ids(doc))  # every runnable job, exactly once
    assert {r["status"] for r in done} == {"succeeded"}
    by_id = {j["job_id"]: j for j in doc["jobs"]}
    for rec in done:
        job = by_id[rec["job_id"]]
        assert rec["executor"] == "ray"
        assert rec["metrics"]["families"] == job["model_families"]
        assert rec["metrics"]["excluded_features"] == job["excluded_features"]
        assert Path(rec["artifacts_dir"], "model.txt").read_text() == rec["job_id"]
        assert f"trained {rec['job_id']} attempt 1" in rec["output_tail"]
        assert rec["node"] == node_ids[rec["host"]]  # the node that ran it, named
        assert rec["artifacts"] == ["model.txt", "output.log"]  # the attempt's node marker is removed
        assert not Path(rec["artifacts_dir"], NODE_FILE).exists()
    assert {r["host"] for r in done} == {HEAD, WORKER}
    session = records(ledger, "session")[0]
    assert session["executor"] == "ray" and session["address"] == cluster.address


def test_a_job_no_node_fits_is_refused_before_the_run(cluster: RayCluster, tmp_path: Path) -> None:
    doc = plan_document()
    root = write_plan(tmp_path / "plan", doc)
    code, out = _run(cluster, root, tmp_path / "ledger", "--trainer", TRAINER, "--gpus-per-job", "1")
    assert code == 2, out
    assert "asks for 1 CPU, 1 GPU, which no node of the Ray cluster has" in out
    assert "job " in out and "Traceback" not in out
    assert not records(tmp_path / "ledger", None)  # refused before the run: no session record


def test_a_policy_family_that_asks_for_a_gpu_is_refused(cluster: RayCluster, tmp_path: Path) -> None:
    doc = plan_document(targets=("ta",), symbols=("AAA",))
    doc["jobs"][-1]["model_families"] = ["catboost"]
    root = write_plan(tmp_path / "plan", doc)
    policy = tmp_path / "policy.yaml"
    policy.write_text("routing: {}\ntraining:\n  resources:\n    families:\n      catboost: {gpus: 1, memory_gb: 2}\n")
    code, out = _run(cluster, root, tmp_path / "ledger", "--trainer", TRAINER, "--policy", str(policy))
    assert code == 2, out
    assert f"job {doc['jobs'][-1]['job_id']} asks for 1 CPU, 1 GPU, 2 GB memory" in out


def test_an_artifacts_root_no_worker_can_write_is_refused(cluster: RayCluster, tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the artifacts root should be")
    code, out = _run(cluster, root, tmp_path / "ledger", "--trainer", TRAINER, "--artifacts-root", str(blocked / "a"))
    assert code == 2, out
    assert f"--artifacts-root {blocked / 'a'}: a Ray worker on node" in out and "cannot write there" in out
    assert "shared file system path" in out and "Traceback" not in out
    assert not records(tmp_path / "ledger", None)


def test_a_hanging_trainer_is_cancelled_at_the_timeout(cluster: RayCluster, tmp_path: Path) -> None:
    doc = plan_document(targets=("ta",), symbols=("AAA", "BBB"))
    root = write_plan(tmp_path / "plan", doc)
    ledger = tmp_path / "ledger"
    hang = "sym_ta_AAA"
    # the timeout covers a normal job's start on a busy machine (Ray's dispatch, the worker importing the
    # trainer); only the hanging job waits for it
    code, out = _run(cluster, root, ledger, "--trainer", TRAINER, "--timeout", "15", env={"TRAINPLAN_TEST_HANG": hang})
    assert code == 1, out
    by_job = {r["job_id"]: r for r in ends(ledger)}
    assert by_job[hang]["status"] == "timed_out"
    assert f"{hang} hangs" in by_job[hang]["output_tail"]
    assert {r["status"] for j, r in by_job.items() if j != hang} == {"succeeded"}


def test_a_worker_that_dies_fails_its_attempt_on_a_node_that_stays(
    cluster: RayCluster, node_ids: dict[str, str], tmp_path: Path
) -> None:
    doc = plan_document(targets=("ta",), symbols=("AAA", "BBB"))
    root = write_plan(tmp_path / "plan", doc)
    ledger = tmp_path / "ledger"
    dies = "sym_ta_AAA"
    code, out = _run(cluster, root, ledger, "--trainer", TRAINER, env={"TRAINPLAN_TEST_EXIT": dies})
    assert code == 1, out
    by_job = {r["job_id"]: r for r in ends(ledger)}
    assert by_job[dies]["status"] == "failed"
    assert by_job[dies]["error"] == "the Ray worker process died during the attempt"  # not "node lost"
    assert by_job[dies]["node"] == node_ids[by_job[dies]["host"]]  # where it died, from the attempt's marker
    assert NODE_FILE not in by_job[dies]["artifacts"]
    assert not Path(by_job[dies]["artifacts_dir"], NODE_FILE).exists()  # train removed what the dead worker left
    assert {r["status"] for j, r in by_job.items() if j != dies} == {"succeeded"}
    assert len(node_ids) == 2 and cluster.nodes() == node_ids  # both nodes still there


COMMAND = """
import json, os, sys, time
job, out = sys.argv[1], sys.argv[2]
if job == os.environ.get("TRAINPLAN_TEST_HANG"):
    with open(os.path.join(out, "child.pid"), "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(3600)
with open(os.path.join(out, "metrics.json"), "w") as handle:
    json.dump({"job": job, "node_job": os.environ["TRAINPLAN_JOB_ID"]}, handle)
"""


def test_a_command_runs_on_the_worker_and_is_killed_with_its_task(cluster: RayCluster, tmp_path: Path) -> None:
    doc = plan_document(targets=("ta",), symbols=("AAA", "BBB"))
    root = write_plan(tmp_path / "plan", doc)
    ledger, script = tmp_path / "ledger", tmp_path / "train_one.py"
    script.write_text(COMMAND)
    hang = "sym_ta_BBB"
    code, out = _run(
        cluster,
        root,
        ledger,
        "--timeout",
        "15",  # covers a normal job's start on a busy machine; only the hanging command waits for it
        "--command",
        "--",
        sys.executable,
        str(script),
        "{job_id}",
        "{artifacts_dir}",
        env={"TRAINPLAN_TEST_HANG": hang},
    )
    assert code == 1, out
    by_job = {r["job_id"]: r for r in ends(ledger)}
    assert by_job[hang]["status"] == "timed_out"
    child = int(Path(by_job[hang]["artifacts_dir"], "child.pid").read_text())
    wait_until(lambda: not alive(child), "the command's process killed with its task", timeout=30)
    for job_id, rec in by_job.items():
        if job_id != hang:
            assert rec["status"] == "succeeded" and rec["metrics"] == {"job": job_id, "node_job": job_id}


def test_resume_after_killing_train_finishes_the_rest(cluster: RayCluster, tmp_path: Path) -> None:
    doc = plan_document(blocked_symbols=("CCC",))
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, gate, env = gated(tmp_path, stop_after=2)
    proc = _train(cluster, root, ledger, "--trainer", TRAINER, env=env)
    wait_until(
        lambda: len(_succeeded(ledger)) >= 2 and len(started(log)) >= 4, "2 jobs done, 2 waiting", timeout=RAY_WAIT_S
    )
    kill(proc, signal.SIGKILL)
    done_before = set(_succeeded(ledger))
    gate.touch()
    code, out = _run(cluster, root, ledger, "--trainer", TRAINER, "--resume", env=env)
    assert code == 0, out
    assert "2 already succeeded" in out and "were in flight when the run was killed" in out
    assert _succeeded(ledger) == Counter(runnable_ids(doc))  # every job succeeded exactly once
    starts = Counter(started(log))
    assert all(starts[j] == 1 for j in done_before)  # nothing that succeeded ran again


def test_ctrl_c_twice_cancels_the_running_ray_tasks(cluster: RayCluster, tmp_path: Path) -> None:
    doc = plan_document(blocked_symbols=("CCC",))
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, _, env = gated(tmp_path)
    proc = _train(cluster, root, ledger, "--trainer", TRAINER, env=env)
    try:
        wait_until(lambda: len(started(log)) == 2, "two jobs in flight", timeout=RAY_WAIT_S)
        pids = {int(line.split()[1]) for line in log.read_text().splitlines()}
        out = interrupt_twice(proc)
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode == 1, out
    final = {r["job_id"]: r["status"] for r in ends(ledger)}
    assert set(final) == runnable_ids(doc)
    assert sorted(s for j, s in final.items() if j in started(log)) == ["cancelled", "cancelled"]
    assert {s for j, s in final.items() if j not in started(log)} == {"interrupted"}
    wait_until(lambda: not any(alive(pid) for pid in pids), "the cancelled Ray workers gone", timeout=30)
    assert records(ledger, "session_end")[-1]["outcome"] == "cancelled"


def test_a_lost_node_fails_its_attempt_which_is_retried_on_the_other(
    cluster: RayCluster, node_ids: dict[str, str], tmp_path: Path
) -> None:
    doc = plan_document(blocked_symbols=("CCC",))
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, gate, env = gated(tmp_path)
    proc = _train(cluster, root, ledger, "--trainer", TRAINER, "--retries", "2", "--retry-backoff", "0", env=env)
    wait_until(lambda: len(started(log)) >= 2, "a job running on each node", timeout=RAY_WAIT_S)
    cluster.kill_node(WORKER)
    wait_until(
        lambda: any(r["status"] == "failed" for r in ends(ledger)), "the lost attempt recorded", timeout=RAY_WAIT_S
    )
    gate.touch()
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    lost = [r for r in ends(ledger) if r["status"] == "failed"]
    assert len(lost) == 1, lost
    assert lost[0]["error"] == f"node lost: the Ray node {WORKER} died during the attempt"
    assert lost[0]["node"] == node_ids[WORKER]
    retried: list[dict[str, Any]] = [
        r for r in ends(ledger) if r["job_id"] == lost[0]["job_id"] and r["status"] == "succeeded"
    ]
    assert [r["attempt"] for r in retried] == [2] and retried[0]["host"] == HEAD
    assert _succeeded(ledger) == Counter(runnable_ids(doc))  # each job succeeded once, none ran after success
    assert json.dumps(records(ledger, "session_end")[-1]["counts"]) == json.dumps({"succeeded": 6})
    cluster.wait_for_nodes(1)  # the head has noticed: the next test sees one node


def test_the_head_going_away_ends_the_run_and_resume_finishes_it(cluster: RayCluster, tmp_path: Path) -> None:
    """Runs after the node-loss test (only the head is left): the head is killed mid-run; every job's state is
    recorded, and `--resume` (here on a local Ray instance) finishes the rest."""
    doc = plan_document(blocked_symbols=("CCC",))
    root = write_plan(tmp_path / "plan", doc)
    ledger, log, gate, env = gated(tmp_path)
    proc = _train(cluster, root, ledger, "--trainer", TRAINER, "--retries", "1", "--retry-backoff", "0", env=env)
    wait_until(lambda: len(started(log)) >= 1, "a job running on the head", timeout=RAY_WAIT_S)
    cluster.kill_node(HEAD)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, out
    assert f"the Ray head at {cluster.address} went away" in out and "resume with" in out
    statuses = Counter(r["status"] for r in ends(ledger))
    assert statuses["failed"] >= 1 and statuses["succeeded"] == 0
    last = {}
    for rec in ends(ledger):
        last[rec["job_id"]] = rec["status"]
    assert set(last) == runnable_ids(doc)  # every job's state is recorded
    assert records(ledger, "session_end")[-1]["outcome"] == "interrupted"
    gate.touch()
    resumed = start_train(
        root, ledger, "--trainer", TRAINER, "--resume", "--executor", "ray", "--workers", "1", env=_env(env)
    )
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert _succeeded(ledger) == Counter(runnable_ids(doc))
