"""The Ray executor: each attempt is a Ray task (`trainplan.train.ray_task.run_attempt`) on a Ray cluster.

Behind the executor interface (`trainplan.train.executor`), so the scheduler keeps the priority queue, the
in-flight cap, deadlines, retries and the ledger; Ray only places and runs tasks:

- connect: `--address ADDR` (or env RAY_ADDRESS) joins that cluster; neither starts a local Ray instance with
  `--workers` CPUs (`ray.init(address="local")`), stopped when the run ends;
- `free_slots()`: the in-flight cap (`--workers`, default the cluster's CPUs) minus attempts in flight: no more
  tasks are submitted than can run, so the scheduler's queue, not Ray's, decides what runs next;
- `submit(spec)`: a task with the job's resources (`num_cpus`, `num_gpus`, `memory`) and `max_retries=0`: every
  retry is the scheduler's, so every attempt is a ledger record;
- `wait(timeout)`: `ray.wait` on the tasks in flight; a task that raised inside Ray becomes a result: a task
  cancelled by `cancel` is `killed`; a node that died is an error starting `node lost:` (retried on another node
  within `--retries`); a Ray worker that died (e.g. `os._exit` in a trainer) is an error, unless its node is
  gone too (Ray may report the worker's death first): each attempt notes its node in its folder
  (`ray_task.NODE_FILE`), and a node whose node manager refuses (or does not take) a connection during
  NODE_CHECK_S is a lost node (checked once per node and batch of results: the scheduler waits that long);
- `cancel(key)`: `ray.cancel(ref, force=True)`: the worker process and its children are killed;
- `broken()`: the head's GCS port is probed every few seconds while attempts run; when it stays unreachable the
  attempts in flight are reported failed (node lost: the head) and the scheduler ends the run (`--resume`
  continues it).

Ray is an optional dependency (`pip install 'trainplan[ray]'`): only this module and `ray_task` import it, and
only when `--executor ray` is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trainplan.config.training_policy import JobResources
from trainplan.errors import TrainplanError
from trainplan.train.executor import AttemptResult, AttemptSpec, JsonValue, Payload
from trainplan.train.ray_task import (
    ENV_PREFIX,
    RaySession,
    attempt_node,
    probe_artifacts_root,
    remove_node_marker,
    run_attempt,
)
from trainplan.train.worker import HOST, list_artifacts, output_tail

INSTALL_HINT = "pip install 'trainplan[ray]'"
HEAD_PROBE_EVERY_S = 2.0
HEAD_LOST_AFTER = 3  # failed probes in a row
PROBE_TIMEOUT_S = 120.0
NODE_CHECK_S = 2.0  # how long a node whose worker died must keep answering to count as alive
GB = 1024**3


class RayNotInstalled(TrainplanError):
    """`--executor ray` without Ray installed."""


class RayUnavailable(TrainplanError):
    """The Ray cluster cannot be reached or started."""


class JobsDoNotFit(TrainplanError):
    """A job asks for more than any node of the cluster has: it could never start."""


class ArtifactsRootUnusable(TrainplanError):
    """The artifacts root cannot be written from a Ray worker, or is not the same folder there and here."""


def import_ray() -> Any:
    """The `ray` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError as err:
        raise RayNotInstalled(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from err
    return ray


@dataclass(frozen=True)
class Node:
    node_id: str
    name: str  # the name given to `ray start --node-name`, else the node's IP address
    resources: Mapping[str, float]
    raylet: tuple[str, int] | None = None  # the node manager's address, probed when a worker there dies

    def fits(self, want: JobResources) -> bool:
        have = self.resources
        return (
            have.get("CPU", 0.0) >= want.cpus
            and have.get("GPU", 0.0) >= want.gpus
            and have.get("memory", 0.0) >= want.memory_gb * GB
        )


@dataclass
class _Attempt:
    spec: AttemptSpec
    ref: Any  # ray.ObjectRef
    submitted_at: float  # epoch
    killed: bool = False


_NODE_IN_ERROR = re.compile(r"node ID: ([0-9a-f]{16,})")


def _reachable(address: tuple[str, int]) -> bool:
    """Whether a TCP connection to the address is taken within a second."""
    try:
        socket.create_connection(address, timeout=1.0).close()
    except OSError:
        return False
    return True


class RayExecutor:
    """Runs attempts as Ray tasks; see the module docstring."""

    name = "ray"
    host = HOST

    def __init__(
        self,
        *,
        payload: Payload,
        address: str | None,
        workers: int | None,
        resources_of: Callable[[Mapping[str, JsonValue]], JobResources],
    ) -> None:
        self._ray = import_ray()
        self.resources_of = resources_of
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.local = self.address is None
        self._connect(workers)
        self.nodes = self._nodes()
        self.workers = workers
        self.size = self._size()
        env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
        # passed by value: a few hundred bytes travel inline with each task, cheaper than an object-store fetch
        self._session = RaySession(payload, env)
        self._task = self._ray.remote(run_attempt)
        self._bound: dict[JobResources, Any] = {}
        self._by_key: dict[int, _Attempt] = {}
        self._by_ref: dict[Any, _Attempt] = {}
        self._broken: str | None = None
        self._gcs = self._gcs_address()
        self._probe_failures = 0
        self._next_probe = time.monotonic() + HEAD_PROBE_EVERY_S

    # --- setting up -------------------------------------------------------------------------------------------

    def _connect(self, workers: int | None) -> None:
        ray = self._ray
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR, "include_dashboard": False}
        try:
            if self.local:
                ray.init(address="local", num_cpus=workers or len(os.sched_getaffinity(0)), **quiet)
            else:
                quiet.pop("include_dashboard")
                ray.init(address=self.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RayUnavailable(f"--executor ray: cannot use {where}: {first}") from err

    def _nodes(self) -> dict[str, Node]:
        out: dict[str, Node] = {}
        for info in self._ray.nodes():
            if info.get("Alive"):
                name = info.get("NodeName") or info.get("NodeManagerAddress") or info["NodeID"][:12]
                host, port = info.get("NodeManagerAddress"), info.get("NodeManagerPort")
                raylet = (str(host), int(port)) if host and port else None
                out[info["NodeID"]] = Node(info["NodeID"], str(name), dict(info.get("Resources") or {}), raylet)
        return out

    def _size(self) -> int:
        return self.workers or max(1, int(sum(n.resources.get("CPU", 0.0) for n in self.nodes.values())))

    def _gcs_address(self) -> tuple[str, int] | None:
        try:
            host, port = self._ray.get_runtime_context().gcs_address.rsplit(":", 1)
            return host, int(port)
        except (AttributeError, ValueError):
            return None

    def describe(self) -> str:
        nodes = ", ".join(sorted(n.name for n in self.nodes.values()))
        where = "a local Ray instance" if self.local else f"the Ray cluster at {self.address}"
        return f"{where}: {len(self.nodes)} nodes ({nodes}), {self.size} jobs in flight at most"

    def check_fits(self, jobs: Sequence[tuple[str, JobResources]]) -> None:
        """Refuse the run when a job asks for more than any single node has (it could never start)."""
        for job_id, want in jobs:
            if not any(node.fits(want) for node in self.nodes.values()):
                biggest = ", ".join(
                    f"{n.name}: {n.resources.get('CPU', 0):g} CPU, {n.resources.get('GPU', 0):g} GPU, "
                    f"{n.resources.get('memory', 0) / GB:.1f} GB memory"
                    for n in self.nodes.values()
                )
                raise JobsDoNotFit(
                    f"job {job_id} asks for {want.describe()}, which no node of the Ray cluster has ({biggest}); "
                    "lower --cpus-per-job / --gpus-per-job / --memory-per-job or the policy's training.resources"
                )

    def check_artifacts_root(self, root: Path) -> None:
        """A probe task on every node writes a file under the root; this process must then see it."""
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = ray.remote(probe_artifacts_root)
        refs = [
            probe.options(
                num_cpus=0, max_retries=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)
            ).remote(str(root))
            for node_id in self.nodes
        ]
        answers = []
        for node_id, ref in zip(list(self.nodes), refs, strict=True):
            try:
                answers.append(ray.get(ref, timeout=PROBE_TIMEOUT_S))
            except (ray.exceptions.TaskUnschedulableError, ray.exceptions.NodeDiedError):
                del self.nodes[node_id]  # a node that left the cluster since ray.nodes() answered: not needed
            except ray.exceptions.GetTimeoutError as err:
                name = self.nodes[node_id].name
                raise ArtifactsRootUnusable(
                    f"--artifacts-root {root}: the Ray node {name} did not answer the artifacts-root probe within "
                    f"{PROBE_TIMEOUT_S:g} s (no free worker there, or it is unreachable)"
                ) from err
        if not self.nodes:
            raise RayUnavailable("--executor ray: no node of the Ray cluster answered")
        self.size = self._size()
        for node_id, name, error in answers:
            node = self.nodes.get(node_id)
            where = node.name if node else node_id[:12]
            if error is not None:
                raise ArtifactsRootUnusable(
                    f"--artifacts-root {root}: a Ray worker on node {where} cannot write there ({error}); it must "
                    "be a shared file system path every node can write (docs/cluster.md)"
                )
            probe_file = root / name
            if not probe_file.is_file():
                raise ArtifactsRootUnusable(
                    f"--artifacts-root {root}: a file a Ray worker on node {where} wrote there is not visible here; "
                    "it must be one shared file system path, mounted at the same place on every node (docs/cluster.md)"
                )
            probe_file.unlink(missing_ok=True)

    # --- the interface ----------------------------------------------------------------------------------------

    def free_slots(self) -> int:
        return 0 if self._broken else self.size - len(self._by_key)

    def submit(self, spec: AttemptSpec) -> int:
        want = self.resources_of(spec.job)
        task = self._bound.get(want)
        if task is None:
            task = self._task.options(
                num_cpus=want.cpus,
                num_gpus=want.gpus,
                memory=int(want.memory_gb * GB) or None,
                max_retries=0,
                retry_exceptions=False,
            )
            self._bound[want] = task
        attempt = _Attempt(spec, task.remote(self._session, spec), time.time())
        self._by_key[spec.key] = attempt
        self._by_ref[attempt.ref] = attempt
        return spec.key

    def cancel(self, key: int) -> None:
        attempt = self._by_key.get(key)
        if attempt is None or attempt.killed:
            return
        attempt.killed = True
        with contextlib.suppress(Exception):  # it may have ended meanwhile; its result still arrives via wait
            self._ray.cancel(attempt.ref, force=True)

    def wait(self, timeout: float) -> list[AttemptResult]:
        if self._broken:
            return self._lose_all()
        refs = list(self._by_ref)
        if not refs:
            time.sleep(max(0.0, timeout))
            return []
        ready, rest = self._ray.wait(refs, num_returns=1, timeout=max(0.0, timeout))
        if ready and rest:
            more, _ = self._ray.wait(rest, num_returns=len(rest), timeout=0)
            ready.extend(more)
        answers: dict[str, bool] = {}  # one check per node whose worker died, for the whole batch
        out = [self._collect(ref, answers) for ref in ready]
        if not out:
            self._probe_head()
        return out

    def broken(self) -> str | None:
        return self._broken

    def close(self) -> None:
        for attempt in list(self._by_key.values()):
            with contextlib.suppress(Exception):
                self._ray.cancel(attempt.ref, force=True)
        self._by_key.clear()
        self._by_ref.clear()
        # a head that went away can make shutdown wait on it: give up after a few seconds
        stopper = threading.Thread(target=self._ray.shutdown, name="ray-shutdown", daemon=True)
        stopper.start()
        stopper.join(timeout=10.0)

    # --- results ----------------------------------------------------------------------------------------------

    def _collect(self, ref: Any, answers: dict[str, bool]) -> AttemptResult:
        attempt = self._by_ref.pop(ref)
        del self._by_key[attempt.spec.key]
        ray = self._ray
        try:
            result: AttemptResult = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            return self._lost(attempt, "killed", "killed (its Ray task was cancelled)", None)
        except ray.exceptions.NodeDiedError as err:
            node = _NODE_IN_ERROR.search(str(err))
            return self._node_lost(attempt, node.group(1) if node else attempt_node(attempt.spec.artifacts_dir))
        except ray.exceptions.WorkerCrashedError:
            if attempt.killed:
                return self._lost(attempt, "killed", "killed (its Ray task was cancelled)", None)
            node_id = attempt_node(attempt.spec.artifacts_dir)
            if node_id is not None:
                if node_id not in answers:
                    answers[node_id] = self._node_answers(node_id)
                if not answers[node_id]:  # the whole node went: Ray may notice the worker's death before the node's
                    return self._node_lost(attempt, node_id)
            return self._lost(attempt, "error", "the Ray worker process died during the attempt", node_id)
        except ray.exceptions.RayError as err:  # e.g. OutOfMemoryError: Ray's memory monitor killed the worker
            if attempt.killed:
                return self._lost(attempt, "killed", "killed (its Ray task was cancelled)", None)
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:500]
            return self._lost(
                attempt, "error", f"{type(err).__name__}: {first}", attempt_node(attempt.spec.artifacts_dir)
            )
        node = self.nodes.get(result.node or "")
        if node is None and result.node:  # a node that joined after the run started
            node = self._refreshed_nodes().get(result.node)
        return replace(result, host=node.name if node else result.host)

    def _node_lost(self, attempt: _Attempt, node_id: str | None) -> AttemptResult:
        name = self.nodes[node_id].name if node_id in self.nodes else (node_id or "?")[:12]
        return self._lost(attempt, "error", f"node lost: the Ray node {name} died during the attempt", node_id)

    def _lost(self, attempt: _Attempt, outcome: str, error: str, node_id: str | None) -> AttemptResult:
        spec = attempt.spec
        folder = spec.artifacts_dir
        remove_node_marker(folder)  # left by a worker that died or was cancelled
        node = self.nodes.get(node_id or "")
        return AttemptResult(
            key=spec.key,
            outcome="killed" if outcome == "killed" else "error",
            exit_code=None,
            error=error,
            metrics=None,
            output_tail=output_tail(folder),
            artifacts=list_artifacts(folder) if os.path.isdir(folder) else [],
            host=node.name if node else "",  # the node is unknown (a cancelled task, a lost head)
            pid=None,
            started_at=attempt.submitted_at,
            ended_at=time.time(),
            node=node_id,
        )

    def _node_answers(self, node_id: str) -> bool:
        """Whether the node is alive: its node manager takes a connection, again and again for NODE_CHECK_S (a
        node being killed loses its worker a moment before its node manager). Only the node is asked; a node not
        known yet is looked up in Ray's alive nodes, a call to the head that is given NODE_CHECK_S too (it waits
        on a head that went away: then the node counts as gone)."""
        node = self.nodes.get(node_id) or self._refreshed_nodes().get(node_id)
        if node is None:
            return False
        if node.raylet is None:
            return True  # nothing to ask: the worker's death is all that is known
        deadline = time.monotonic() + NODE_CHECK_S
        while _reachable(node.raylet):
            if time.monotonic() >= deadline:
                return True
            time.sleep(NODE_CHECK_S / 4)
        return False

    def _refreshed_nodes(self) -> dict[str, Node]:
        """Ray's alive nodes now (kept in self.nodes), or {} when the head does not answer within NODE_CHECK_S."""
        found: list[dict[str, Node]] = []

        def ask() -> None:
            with contextlib.suppress(Exception):
                found.append(self._nodes())

        asker = threading.Thread(target=ask, name="ray-nodes", daemon=True)
        asker.start()
        asker.join(timeout=NODE_CHECK_S)
        if not found:
            return {}
        self.nodes = found[0]
        return self.nodes

    # --- the head ---------------------------------------------------------------------------------------------

    def _probe_head(self) -> None:
        now = time.monotonic()
        if self._gcs is None or self.local or now < self._next_probe:
            return
        self._next_probe = now + HEAD_PROBE_EVERY_S
        self._probe_failures = 0 if _reachable(self._gcs) else self._probe_failures + 1
        if self._probe_failures >= HEAD_LOST_AFTER:
            host, port = self._gcs
            self._broken = f"the Ray head at {host}:{port} went away"

    def _lose_all(self) -> list[AttemptResult]:
        out = []
        for attempt in list(self._by_key.values()):
            out.append(self._lost(attempt, "error", f"node lost: {self._broken}", None))
        self._by_key.clear()
        self._by_ref.clear()
        return out
