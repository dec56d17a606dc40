"""How the Ray executor names an attempt whose Ray worker died (`RayExecutor._collect`): a lost node when the node
the attempt noted in its folder stops taking connections, else a crashed worker; and the note itself
(`ray_task.run_attempt`). Ray may report a killed node's tasks as crashed workers before it marks the node dead, so
the tests/test_train_ray.py node-loss test alone cannot show each path: here Ray's answers are fixed. Ray's own
exception classes are used; no cluster is started."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import ray.exceptions
from trainplan.train import ray_executor, ray_task
from trainplan.train.executor import AttemptResult, AttemptSpec, TrainerPayload
from trainplan.train.ray_executor import Node, RayExecutor, _Attempt
from trainplan.train.ray_task import NODE_FILE, RaySession

WORKER_ID = "ab" * 28
HEAD_ID = "cd" * 28
CRASHED = "the Ray worker process died during the attempt"
LOST = "node lost: the Ray node tp-worker died during the attempt"
Address = tuple[str, int]


@pytest.fixture(autouse=True)
def quick_node_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_executor, "NODE_CHECK_S", 0.2)


@pytest.fixture
def listening() -> Iterator[Address]:
    """A port that takes connections, standing for a live node manager."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[:2]


@pytest.fixture
def dies_after_one_connection() -> Iterator[Address]:
    """A node manager that takes the first connection, then goes (its node is being killed)."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve_once() -> None:
        with contextlib.suppress(OSError):  # OSError: closed at teardown, by a test that never connected
            conn, _ = server.accept()
            conn.close()
        server.close()

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    yield server.getsockname()[:2]
    server.close()


def _closed_port() -> Address:
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = server.getsockname()[:2]
    return address  # nothing listens there any more: a connection is refused


def _node_info(node_id: str, raylet: Address) -> dict[str, Any]:
    return {
        "NodeID": node_id,
        "NodeName": "tp-worker" if node_id == WORKER_ID else "tp-head",
        "Alive": True,
        "Resources": {"CPU": 1.0},
        "NodeManagerAddress": raylet[0],
        "NodeManagerPort": raylet[1],
    }


def _head_not_asked() -> list[dict[str, Any]]:
    raise AssertionError("the head was asked about a node already known")


def _executor(
    raises: BaseException, raylet: Address | None, nodes: Callable[[], list[dict[str, Any]]] = _head_not_asked
) -> RayExecutor:
    def get(_ref: object) -> object:
        raise raises

    executor = object.__new__(RayExecutor)  # the connection part of __init__ needs a cluster; _collect does not
    executor._ray = SimpleNamespace(exceptions=ray.exceptions, get=get, nodes=nodes)
    executor.nodes = {WORKER_ID: Node(WORKER_ID, "tp-worker", {"CPU": 1.0}, raylet)}
    executor._by_key = {}
    executor._by_ref = {}
    return executor


def _spec(folder: Path, key: int = 1) -> AttemptSpec:
    job = {"job_id": "sym_ta_AAA"}
    return AttemptSpec(key=key, job=job, order=0, run_id="r", plan_id="p", attempt=1, artifacts_dir=str(folder))


def _collect(executor: RayExecutor, folder: Path, *, noted: str | None, killed: bool = False) -> AttemptResult:
    folder.mkdir(parents=True, exist_ok=True)
    if noted is not None:
        (folder / NODE_FILE).write_text(noted)
    (folder / "output.log").write_text("training AAA\n")
    ref = object()
    attempt = _Attempt(_spec(folder), ref, time.time(), killed=killed)
    executor._by_key[1] = attempt
    executor._by_ref[ref] = attempt
    result = executor._collect(ref, {})
    assert not (folder / NODE_FILE).exists()  # the driver removes what a dead worker left
    assert result.artifacts == ["output.log"] and "training AAA" in result.output_tail
    return result


@pytest.mark.parametrize(
    ("node_manager", "error"),
    [("answers", CRASHED), ("refuses", LOST), ("goes after one connection", LOST)],
)
def test_a_crashed_worker_on_a_known_node_is_named_by_asking_its_node_manager_only(
    tmp_path: Path,
    listening: Address,
    dies_after_one_connection: Address,
    node_manager: str,
    error: str,
) -> None:
    raylet = {"answers": listening, "refuses": _closed_port(), "goes after one connection": dies_after_one_connection}
    executor = _executor(ray.exceptions.WorkerCrashedError(), raylet[node_manager])
    result = _collect(executor, tmp_path / "a", noted=WORKER_ID)
    assert result.outcome == "error" and result.error == error
    assert (result.node, result.host) == (WORKER_ID, "tp-worker")  # where it died, from the attempt's marker


def test_a_node_without_a_node_manager_address_counts_as_alive(tmp_path: Path) -> None:
    result = _collect(_executor(ray.exceptions.WorkerCrashedError(), None), tmp_path / "a", noted=WORKER_ID)
    assert result.error == CRASHED and result.node == WORKER_ID


@pytest.mark.parametrize(
    ("head", "error"),
    [
        ("lists it", CRASHED),
        ("does not list it", f"node lost: the Ray node {WORKER_ID[:12]} died during the attempt"),
        ("waits", f"node lost: the Ray node {WORKER_ID[:12]} died during the attempt"),
    ],
)
def test_a_node_not_known_yet_is_looked_up_with_the_head_given_a_bounded_wait(
    tmp_path: Path, listening: Address, head: str, error: str
) -> None:
    released = threading.Event()

    def nodes() -> list[dict[str, Any]]:
        if head == "waits":  # as ray.nodes() does while the head is gone; it answers only when released
            released.wait(30)
        return [_node_info(HEAD_ID, listening)] + (
            [] if head == "does not list it" else [_node_info(WORKER_ID, listening)]
        )

    executor = _executor(ray.exceptions.WorkerCrashedError(), None, nodes)
    executor.nodes = {}  # the node joined after the run started
    try:
        result = _collect(executor, tmp_path / "a", noted=WORKER_ID)
    finally:
        released.set()
    assert result.error == error and result.node == WORKER_ID


def test_a_crashed_worker_with_no_noted_node_is_a_crashed_worker(tmp_path: Path) -> None:
    executor = _executor(ray.exceptions.WorkerCrashedError(), _closed_port())  # even with the node gone
    result = _collect(executor, tmp_path / "a", noted=None)
    assert result.error == CRASHED and (result.node, result.host) == (None, "")


@pytest.mark.parametrize("marker", ["not UTF-8", "empty"])
def test_a_marker_that_is_not_a_node_id_is_no_node(tmp_path: Path, marker: str) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / NODE_FILE).write_bytes(b"\xff\xfe" if marker == "not UTF-8" else b"")
    executor = _executor(ray.exceptions.WorkerCrashedError(), _closed_port())
    result = _collect(executor, folder, noted=None)
    assert result.error == CRASHED and result.node is None


def test_a_cancelled_attempt_is_killed_without_asking_any_node(tmp_path: Path) -> None:
    executor = _executor(ray.exceptions.WorkerCrashedError(), _closed_port())  # a probe would say "node lost"
    result = _collect(executor, tmp_path / "a", noted=WORKER_ID, killed=True)
    assert result.outcome == "killed" and result.error == "killed (its Ray task was cancelled)"


def test_each_node_is_checked_once_per_batch_of_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(RayExecutor, "_node_answers", lambda self, node_id: asked.append(node_id) or True)
    executor = _executor(ray.exceptions.WorkerCrashedError(), None)
    answers: dict[str, bool] = {}
    for key in (1, 2, 3):
        folder = tmp_path / f"a{key}"
        folder.mkdir()
        (folder / NODE_FILE).write_text(WORKER_ID)
        ref = object()
        executor._by_key[key] = executor._by_ref[ref] = _Attempt(_spec(folder, key), ref, time.time())
        assert executor._collect(ref, answers).error == CRASHED
    assert asked == [WORKER_ID]


def test_a_node_died_error_names_the_node_from_its_message(tmp_path: Path) -> None:
    err = ray.exceptions.NodeDiedError(f"Task failed because the node (node ID: {WORKER_ID}) died.")
    result = _collect(_executor(err, None), tmp_path / "a", noted=None)
    assert result.error == LOST and result.node == WORKER_ID


def test_other_ray_errors_keep_their_first_line_and_the_node(tmp_path: Path) -> None:
    err = ray.exceptions.RayError("Task was killed due to the node running low on memory.\nMemory on the node ...")
    result = _collect(_executor(err, None), tmp_path / "a", noted=WORKER_ID)
    assert result.error == "RayError: Task was killed due to the node running low on memory."
    assert (result.node, result.host) == (WORKER_ID, "tp-worker")


@pytest.mark.parametrize("runner_ends", ["returns", "raises"])
def test_an_attempt_notes_its_node_while_it_runs_and_never_lists_the_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner_ends: str
) -> None:
    folder = tmp_path / "attempt-1"
    seen: list[str] = []

    def runner(spec: AttemptSpec) -> AttemptResult:
        seen.append((folder / NODE_FILE).read_text())
        (folder / "model.txt").write_text("m")
        if runner_ends == "raises":
            raise RuntimeError("a bug in the runner")
        return AttemptResult(1, "ok", 0, None, {}, "", ["model.txt", NODE_FILE], "h", 1, 0.0, 1.0)

    monkeypatch.setattr(ray_task, "_node_id", lambda: WORKER_ID)
    monkeypatch.setattr(ray_task._PROCESS, "prepare", lambda session: runner)
    session = RaySession(TrainerPayload("t:train", str(tmp_path)), {})
    if runner_ends == "raises":
        with pytest.raises(RuntimeError):
            ray_task.run_attempt(session, _spec(folder))
    else:
        result = ray_task.run_attempt(session, _spec(folder))
        assert result.node == WORKER_ID and result.artifacts == ["model.txt"]
    assert seen == [WORKER_ID]  # written before the runner starts
    assert not (folder / NODE_FILE).exists()
