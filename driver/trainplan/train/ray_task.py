"""What runs inside a Ray worker for the Ray executor (`trainplan.train.ray_executor`): one attempt, with the same
runners as the local executor's worker processes (`trainplan.train.worker`), and the artifacts-root probe.

A Ray worker process runs many attempts one after another. It keeps, for as long as it lives, the runner it made
for the run's payload (the trainer is imported once per worker process, as in a local worker) and the `_Output`
that points its stdout and stderr at the attempt's `output.log` while the attempt runs and back at Ray's own log
files after. The driver's `TRAINPLAN_*` environment variables travel with the payload (a worker started by
`ray start` on another host does not inherit the driver's environment) and are set before each attempt.

A `--command` job's program is the worker's child: `ray.cancel(ref, force=True)` kills the worker, and Ray kills
the worker's child processes with it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from trainplan.train.executor import AttemptResult, AttemptSpec, Payload
from trainplan.train.worker import Runner, _Output, list_artifacts, runner_for

ENV_PREFIX = "TRAINPLAN_"
NODE_FILE = ".trainplan-ray-node"  # in the attempt's folder while it runs: the Ray node id it runs on


@dataclass(frozen=True)
class RaySession:
    """What every attempt of a run shares: put in Ray's object store once, passed to each task by reference."""

    payload: Payload
    env: Mapping[str, str]  # the driver's TRAINPLAN_* variables


@dataclass
class _WorkerProcess:
    """The state one Ray worker process keeps between attempts (see the module docstring)."""

    output: _Output | None = None
    runners: dict[Payload, Runner] = field(default_factory=dict)
    env: Mapping[str, str] | None = None

    def prepare(self, session: RaySession) -> Runner:
        if self.env != session.env:
            for name in [n for n in os.environ if n.startswith(ENV_PREFIX) and n not in session.env]:
                del os.environ[name]
            os.environ.update(session.env)
            self.env = session.env
        if self.output is None:
            self.output = _Output(keep=True)
        runner = self.runners.get(session.payload)
        if runner is None:
            runner, _error = runner_for(session.payload, self.output)
            self.runners[session.payload] = runner
        return runner


_PROCESS = _WorkerProcess()


def _node_id() -> str:
    import ray  # only ever imported inside a Ray worker

    return ray.get_runtime_context().get_node_id()


def run_attempt(session: RaySession, spec: AttemptSpec) -> AttemptResult:
    """One attempt, in a Ray worker: its result, with the Ray node that ran it.

    While it runs, the attempt's folder holds NODE_FILE with the node's id: when the worker dies, the driver reads it
    to tell a lost node from a crashed worker (and removes it). The file is gone before the files are listed."""
    node = _node_id()
    with contextlib.suppress(OSError):  # a folder that cannot be written is the runner's error to report
        os.makedirs(spec.artifacts_dir, exist_ok=True)
        with open(os.path.join(spec.artifacts_dir, NODE_FILE), "w", encoding="utf-8") as handle:
            handle.write(node)
    runner = _PROCESS.prepare(session)
    try:
        result = runner(spec)
    finally:
        remove_node_marker(spec.artifacts_dir)
    if NODE_FILE in result.artifacts:  # the runner listed it: list again without it (it took one of the slots)
        result = replace(result, artifacts=list_artifacts(spec.artifacts_dir))
    return replace(result, node=node)


def attempt_node(artifacts_dir: str) -> str | None:
    """The Ray node an attempt started on (NODE_FILE in its folder), or None when it did not get that far."""
    try:
        with open(os.path.join(artifacts_dir, NODE_FILE), encoding="utf-8") as handle:
            return handle.read().strip() or None
    except (OSError, ValueError):  # ValueError: not UTF-8, so not ours
        return None


def remove_node_marker(artifacts_dir: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(artifacts_dir, NODE_FILE))


def probe_artifacts_root(root: str) -> tuple[str, str, str | None]:
    """Create `root` if needed and write a probe file in it: (node id, probe file name, error or None).

    The driver then reads the probe back, which shows the root is one file system every node and the driver see;
    the driver removes the probe."""
    node = _node_id()
    name = f".trainplan-probe-{node[:12]}-{secrets.token_hex(4)}"
    try:
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, name), "w", encoding="utf-8") as handle:
            handle.write(node)
    except OSError as err:
        return node, name, f"{type(err).__name__}: {err.strerror or err}"
    return node, name, None
