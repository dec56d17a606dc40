"""How the Ray executor names an attempt whose Ray worker died (`RayExecutor._collect`): a lost node when the node
the attempt noted in its folder no longer takes connections, else a crashed worker. Ray may report a killed node's tasks as crashed
workers before it marks the node dead, so the tests/test_train_ray.py node-loss test alone cannot show each path:
here Ray's answers are fixed. Ray's own exception classes are used; no cluster is started."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import ray.exceptions
from trainplan.train import ray_executor
from trainplan.train.executor import AttemptSpec
from trainplan.train.ray_executor import Node, RayExecutor, _Attempt
from trainplan.train.ray_task import NODE_FILE

WORKER_ID = "ab" * 28
HEAD_ID = "cd" * 28


@pytest.fixture
def listening() -> Iterator[tuple[str, int]]:
    """A port that takes connections, standing for a live node manager."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[:2]


def _closed_port() -> tuple[str, int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = server.getsockname()[:2]
    return address  # nothing listens there any more: a connection is refused


def _executor(raises: BaseException, nodes: list[dict[str, Any]], raylet: tuple[str, int]) -> RayExecutor:
    def get(_ref: object) -> object:
        raise raises

    executor = object.__new__(RayExecutor)  # the connection part of __init__ needs a cluster; _collect does not
    executor._ray = SimpleNamespace(exceptions=ray.exceptions, get=get, nodes=lambda: nodes)
    executor.nodes = {WORKER_ID: Node(WORKER_ID, "tp-worker", {"CPU": 1.0}, raylet)}
    executor._by_key = {}
    executor._by_ref = {}
    return executor


def _collect(executor: RayExecutor, folder: Path, *, noted: str | None) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    if noted is not None:
        (folder / NODE_FILE).write_text(noted)
    (folder / "output.log").write_text("training AAA\n")
    job = {"job_id": "sym_ta_AAA"}
    spec = AttemptSpec(key=1, job=job, order=0, run_id="r", plan_id="p", attempt=1, artifacts_dir=str(folder))
    ref = object()
    attempt = _Attempt(spec, ref, time.time())
    executor._by_key[1] = attempt
    executor._by_ref[ref] = attempt
    return executor._collect(ref)


def _alive(node_id: str) -> dict[str, Any]:
    return {"NodeID": node_id, "NodeName": node_id[:12], "Alive": True, "Resources": {"CPU": 1.0}}


@pytest.fixture(autouse=True)
def quick_node_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_executor, "NODE_CHECK_S", 0.2)


def _head_not_asked() -> list[dict[str, Any]]:
    raise AssertionError("the head was asked about a node already known")


def _head_gone() -> list[dict[str, Any]]:
    raise ConnectionError("GCS unreachable")


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        (True, "the Ray worker process died during the attempt"),
        (False, "node lost: the Ray node tp-worker died during the attempt"),
    ],
)
def test_a_crashed_worker_on_a_known_node_is_named_by_asking_its_node_manager_only(
    tmp_path: Path, listening: tuple[str, int], answers: bool, error: str
) -> None:
    executor = _executor(ray.exceptions.WorkerCrashedError(), [], listening if answers else _closed_port())
    executor._ray.nodes = _head_not_asked
    result = _collect(executor, tmp_path / "a", noted=WORKER_ID)
    assert result.outcome == "error" and result.error == error
    assert (result.node, result.host) == (WORKER_ID, "tp-worker")  # where it died, from the attempt's marker
    assert result.artifacts == ["output.log"] and "training AAA" in result.output_tail


@pytest.mark.parametrize("head", ["answers", "gone"])
def test_a_crashed_worker_on_a_node_not_known_and_not_alive_is_a_lost_node(
    tmp_path: Path, listening: tuple[str, int], head: str
) -> None:
    executor = _executor(ray.exceptions.WorkerCrashedError(), [_alive(HEAD_ID)], listening)
    if head == "gone":
        executor._ray.nodes = _head_gone
    executor.nodes = {}  # the node joined after the run started, and is gone when its worker dies
    result = _collect(executor, tmp_path / "a", noted=WORKER_ID)
    assert result.error == f"node lost: the Ray node {WORKER_ID[:12]} died during the attempt"
    assert result.node == WORKER_ID


def test_a_crashed_worker_with_no_noted_node_is_a_crashed_worker(tmp_path: Path) -> None:
    executor = _executor(ray.exceptions.WorkerCrashedError(), [], _closed_port())  # even with the node gone
    result = _collect(executor, tmp_path / "a", noted=None)
    assert result.error == "the Ray worker process died during the attempt"
    assert (result.node, result.host) == (None, "")


def test_a_node_died_error_names_the_node_from_its_message(tmp_path: Path, listening: tuple[str, int]) -> None:
    err = ray.exceptions.NodeDiedError(f"Task failed because the node (node ID: {WORKER_ID}) died.")
    executor = _executor(err, [], listening)
    result = _collect(executor, tmp_path / "a", noted=WORKER_ID)
    assert result.error == "node lost: the Ray node tp-worker died during the attempt"
    assert result.node == WORKER_ID
