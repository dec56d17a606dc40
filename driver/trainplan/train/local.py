"""The local executor: N long-lived worker processes (`trainplan.train.worker`), one attempt at a time each.

Each worker is started with `start_new_session=True`, so it leads a process group of its own that holds the
attempt it runs and everything that attempt starts (a `--command` program is the worker's child in that group).
Killing an attempt (`cancel`, used by the scheduler for timeouts and Ctrl-C) is `os.killpg(worker, SIGKILL)`: the
trainer, its children and the worker go together, and a fresh worker replaces it. The group is killed while its
leader is still unreaped (a zombie keeps its pid), so the signal can never reach a recycled process group id.

Workers talk over two pipes (pickled messages); the parent polls the result pipes and a pidfd per worker
(one persistent poll set) at once, so a worker that dies (a trainer calling `os._exit`, a segfault, the OOM killer) is noticed at once.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection

from trainplan.errors import TrainplanError
from trainplan.train.executor import AttemptResult, AttemptSpec, Payload
from trainplan.train.worker import HOST, list_artifacts, output_tail


class WorkerCrashed(RuntimeError):
    """A worker hit a bug of its own (not of the trainer): a trainplan bug, reported with its traceback."""


class WorkersCannotStart(TrainplanError):
    """Worker processes exit before they are ready (a broken environment): nothing could run."""


MAX_START_FAILURES = 3


@dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen[bytes]
    tasks: Connection
    results: Connection
    pidfd: int | None
    ready: bool = False
    spec: AttemptSpec | None = None
    submitted_at: float = 0.0
    killed: str | None = None  # why the attempt was killed, once cancel() was called
    gone: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid


class LocalExecutor:
    """Runs attempts in `workers` local processes; see the module docstring."""

    name = "local"
    host = HOST
    worker_command: tuple[str, ...] = (sys.executable, "-m", "trainplan.train.worker")

    def __init__(self, workers: int, payload: Payload) -> None:
        self.payload = payload
        self.size = workers
        self._workers: list[_Worker] = []
        self._by_key: dict[int, _Worker] = {}
        self._closing = False
        self._start_failures = 0
        self._poller = select.poll()
        self._fds: dict[int, tuple[_Worker, bool]] = {}  # result pipe or pidfd -> (worker, is it the pidfd)
        for _ in range(workers):
            self._workers.append(self._spawn())

    # --- the interface -------------------------------------------------------------------------------------

    def free_slots(self) -> int:
        return sum(1 for w in self._workers if w.ready and w.spec is None and not w.gone)

    def submit(self, spec: AttemptSpec) -> int:
        worker = next(w for w in self._workers if w.ready and w.spec is None and not w.gone)
        worker.spec, worker.submitted_at, worker.killed = spec, time.time(), None
        self._by_key[spec.key] = worker
        with contextlib.suppress(BrokenPipeError):  # it died while idle: its pidfd reports the attempt lost
            worker.tasks.send(spec)
        return spec.key

    def cancel(self, key: int) -> None:
        worker = self._by_key.get(key)
        if worker is None or worker.killed is not None:
            return
        worker.killed = "killed"
        self._kill(worker)

    def wait(self, timeout: float) -> list[AttemptResult]:
        out: list[AttemptResult] = []
        # each event is tied to its worker before any is serviced: servicing one can reap a worker and spawn its
        # replacement on the same fd numbers, and a later event of this batch is still the old worker's
        events = [self._fds.get(fd) for fd, _events in self._poller.poll(math.ceil(max(0.0, timeout) * 1000))]
        for entry in events:
            if entry is not None and not entry[0].gone:  # gone: reaped by an earlier event of this batch
                worker, is_pidfd = entry
                out.extend(self._service(worker, is_pidfd))
        return out

    def broken(self) -> str | None:
        return None  # a worker that cannot start raises WorkersCannotStart instead

    def close(self) -> None:
        """Stop every worker (killing any attempt still running) and reap them."""
        self._closing = True
        for worker in self._workers:
            if worker.spec is None and not worker.gone:
                with contextlib.suppress(OSError):
                    worker.tasks.send(None)
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            if worker.gone:
                continue
            if worker.spec is not None:
                self._kill(worker)
            if not self._exited(worker, max(0.0, deadline - time.monotonic())):
                self._kill(worker)
            self._reap(worker)
        self._workers = []

    # --- workers -------------------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        proc = subprocess.Popen(
            [*self.worker_command, str(task_r), str(result_w)],
            pass_fds=(task_r, result_w),
            cwd=self.payload.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,  # only what it says before it is ready: then its fd 2 is /dev/null
            start_new_session=True,
        )
        os.close(task_r)
        os.close(result_w)
        try:
            pidfd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            pidfd = None  # no pidfd: a dead worker is noticed by its result pipe closing
        worker = _Worker(proc, Connection(task_w, readable=False), Connection(result_r, writable=False), pidfd)
        for fd, is_pidfd in ((result_r, False), (pidfd, True)):
            if fd is not None:
                self._poller.register(fd, select.POLLIN)
                self._fds[fd] = (worker, is_pidfd)
        with contextlib.suppress(BrokenPipeError):  # it died already: its pidfd or result pipe says so next
            worker.tasks.send(("init", self.payload))
        return worker

    @staticmethod
    def _exited(worker: _Worker, timeout: float = 0.0) -> bool:
        """Whether the worker has exited, without reaping it (its pid, so its group id, stays reserved)."""
        if worker.pidfd is not None:
            return bool(select.select([worker.pidfd], [], [], timeout)[0])
        deadline = time.monotonic() + timeout
        while True:
            if os.waitid(os.P_PID, worker.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def _kill(self, worker: _Worker) -> None:
        """SIGKILL the worker's process group (the worker is not reaped yet, so its pgid cannot be reused)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)

    def _reap(self, worker: _Worker) -> None:
        if worker.gone:
            return
        worker.gone = True
        self._kill(worker)  # stragglers a finished --command left in the group
        with contextlib.suppress(ChildProcessError):
            worker.proc.wait()
        for fd in (worker.results.fileno(), worker.pidfd):
            if fd is not None and self._fds.pop(fd, None) is not None:
                self._poller.unregister(fd)
        for conn in (worker.tasks, worker.results):
            conn.close()
        if worker.proc.stderr is not None and not worker.proc.stderr.closed:
            worker.proc.stderr.close()
        if worker.pidfd is not None:
            os.close(worker.pidfd)

    def _handle(self, worker: _Worker, message: tuple[object, ...]) -> AttemptResult | None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            self._start_failures = 0
            if worker.proc.stderr is not None:
                worker.proc.stderr.close()
        elif kind == "result":
            result = message[1]
            assert isinstance(result, AttemptResult)
            self._by_key.pop(result.key, None)
            worker.spec = None
            return result
        elif kind == "fatal":
            raise WorkerCrashed(f"a training worker failed (a trainplan bug):\n{message[1]}")
        return None

    def _service(self, worker: _Worker, exited: bool) -> Iterable[AttemptResult]:
        """One event of a worker: a message on its result pipe, or its exit (pidfd readable, or the pipe's end)."""
        if not exited:
            try:
                result = self._handle(worker, worker.results.recv())
            except (EOFError, OSError):
                exited = True
            else:
                if result is not None:
                    yield result
                return
        while True:  # messages sent just before it exited come first
            try:
                if not worker.results.poll(0):
                    break
                result = self._handle(worker, worker.results.recv())
            except (EOFError, OSError):
                break
            if result is not None:
                yield result
        self._exited(worker, timeout=5.0)
        if not worker.ready and not self._closing:
            self._start_failed(worker)
        spec, killed = worker.spec, worker.killed
        self._reap(worker)
        self._workers.remove(worker)
        if spec is not None:
            self._by_key.pop(spec.key, None)
            yield self._lost(spec, worker, killed)
        if not self._closing:
            self._workers.append(self._spawn())

    def _start_failed(self, worker: _Worker) -> None:
        self._start_failures += 1
        if self._start_failures < MAX_START_FAILURES:
            return
        said = worker.proc.stderr.read().decode("utf-8", "replace") if worker.proc.stderr else ""
        self._reap(worker)
        self._workers.remove(worker)
        raise WorkersCannotStart(
            f"training workers (python -m trainplan.train.worker) exit before they are ready, "
            f"{self._start_failures} times in a row; the last one said:\n{said[-3000:]}"
        )

    def _lost(self, spec: AttemptSpec, worker: _Worker, killed: str | None) -> AttemptResult:
        code = worker.proc.returncode
        if killed is not None:
            error = killed
        elif code is not None and code < 0:
            error = f"the worker died of signal {signal.Signals(-code).name}"
        else:
            error = f"the worker exited with status {code} during the attempt"
        return AttemptResult(
            key=spec.key,
            outcome="killed" if killed is not None else "error",
            exit_code=code,
            error=error,
            metrics=None,
            output_tail=output_tail(spec.artifacts_dir),
            artifacts=list_artifacts(spec.artifacts_dir) if os.path.isdir(spec.artifacts_dir) else [],
            host=self.host,
            pid=worker.pid,
            started_at=worker.submitted_at,
            ended_at=time.time(),
        )
