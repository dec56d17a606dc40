"""A long-lived worker process of the local executor: runs attempts one at a time, sent over a pipe.

Started as `python -m trainplan.train.worker TASK_FD RESULT_FD` in a session (so a process group) of its own. It
receives `("init", payload)`, answers `("ready", pid, error)`, then for each AttemptSpec answers
`("result", AttemptResult)`; `None` or the end of the pipe stops it. During an attempt the worker's stdout and
stderr (so the trainer's prints, its logger and any child process's output) go to `output.log` in the attempt's
artifacts folder; a trainer printing megabytes costs the scheduler nothing.

If the `train` process dies (even by SIGKILL) the task pipe hangs up, and a watchdog thread kills this worker's
whole process group: no trainer outlives the run that started it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from trainplan.train.command import job_values, placeholders_in, render
from trainplan.train.executor import AttemptResult, AttemptSpec, CommandPayload, Payload, TrainerPayload

OUTPUT_LOG = "output.log"
METRICS_FILE = "metrics.json"  # a --command job may write its metrics here
TAIL_BYTES = 4096
MAX_ARTIFACTS = 200
HOST = os.uname().nodename

Runner = Callable[[AttemptSpec], AttemptResult]


def output_tail(artifacts_dir: str) -> str:
    """The last 4 KB of an attempt's output log ('' when there is none)."""
    try:
        with open(os.path.join(artifacts_dir, OUTPUT_LOG), "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def list_artifacts(artifacts_dir: str) -> list[str]:
    """Files under the artifacts folder, relative to it, sorted (at most MAX_ARTIFACTS)."""
    found: list[str] = []
    for root, dirs, files in os.walk(artifacts_dir):
        dirs.sort()
        rel = os.path.relpath(root, artifacts_dir)
        found.extend(name if rel == "." else os.path.join(rel, name) for name in sorted(files))
        if len(found) >= MAX_ARTIFACTS:
            break
    return found[:MAX_ARTIFACTS]


def clean_json(value: Any) -> Any:
    """A value json.dumps writes as strict JSON: NaN and infinities become null, numpy scalars Python numbers,
    anything else unknown its str()."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return clean_json(item())
        except (TypeError, ValueError):
            pass
    return str(value)


def _metrics_of(returned: Any) -> tuple[dict[str, Any] | None, str | None]:
    if returned is None:
        return None, None
    if not isinstance(returned, Mapping):
        return None, f"the trainer returned {type(returned).__name__}, expected a dict of metrics"
    return clean_json(returned), None


class _Output:
    """Points this process's stdout and stderr at an attempt's log file, and back at /dev/null (with `keep`: back
    at the streams the process had, e.g. a Ray worker's own log files)."""

    def __init__(self, keep: bool = False) -> None:
        self.devnull = os.open(os.devnull, os.O_WRONLY)
        self.between = (os.dup(1), os.dup(2)) if keep else (self.devnull, self.devnull)
        self.quiet()

    def quiet(self) -> None:
        os.dup2(self.between[0], 1)
        os.dup2(self.between[1], 2)

    def to_file(self, artifacts_dir: str) -> int:
        os.makedirs(artifacts_dir, exist_ok=True)
        fd = os.open(os.path.join(artifacts_dir, OUTPUT_LOG), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        return fd

    def restore(self, fd: int) -> str:
        """Back to /dev/null (or the kept streams); returns the last 4 KB of the attempt's output."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        self.quiet()
        try:
            size = os.fstat(fd).st_size
            return os.pread(fd, TAIL_BYTES, max(0, size - TAIL_BYTES)).decode("utf-8", "replace")
        finally:
            os.close(fd)


def _result(spec: AttemptSpec, started: float, tail: str | None = None, **fields: Any) -> AttemptResult:
    return AttemptResult(
        key=spec.key,
        output_tail=output_tail(spec.artifacts_dir) if tail is None else tail,
        artifacts=list_artifacts(spec.artifacts_dir),
        host=HOST,
        pid=fields.pop("pid", os.getpid()),
        started_at=started,
        ended_at=time.time(),
        **fields,
    )


def _unwritable(spec: AttemptSpec, started: float, err: OSError) -> AttemptResult:
    """The attempt's folder cannot be written (a full disk, a read-only folder): the attempt fails, the worker
    goes on."""
    error = (
        f"cannot write the attempt's folder {spec.artifacts_dir}: {err.strerror or err}; "
        "expected a writable artifacts folder with free space"
    )
    return _result(spec, started, "", outcome="error", exit_code=None, error=error, metrics=None)


def _job_logger() -> logging.Logger:
    logger = logging.getLogger("trainplan.trainer")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)  # fd 2: the attempt's output.log while it runs
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    return logger


def _trainer_runner(payload: TrainerPayload, output: _Output) -> tuple[Runner, str | None]:
    from trainplan.plan.model import Job
    from trainplan.train.context import TrainContext
    from trainplan.train.trainer import TrainerNotFound, load_trainer

    try:
        trainer = load_trainer(payload.spec, Path(payload.cwd))
    except TrainerNotFound as err:
        message = str(err)

        def broken(spec: AttemptSpec) -> AttemptResult:
            return _result(spec, time.time(), outcome="error", exit_code=None, error=message, metrics=None)

        return broken, message
    logger = _job_logger()

    def run(spec: AttemptSpec) -> AttemptResult:
        started = time.time()
        try:
            fd = output.to_file(spec.artifacts_dir)
        except OSError as err:
            return _unwritable(spec, started, err)
        metrics, error = None, None
        try:
            job = Job.from_document(spec.job, spec.order)
            context = TrainContext(spec.run_id, spec.plan_id, Path(spec.artifacts_dir), spec.attempt, logger)
            metrics, error = _metrics_of(trainer(job, context))
            exit_code = None
        except SystemExit as err:  # sys.exit() in a trainer: its code is the attempt's exit status
            code = err.code if isinstance(err.code, int) else (0 if err.code is None else 1)
            exit_code, error = code, (f"the trainer called sys.exit({err.code!r})" if code else None)
        except BaseException as err:
            with contextlib.suppress(OSError):  # the log's disk may be what failed
                traceback.print_exc()
            exit_code, error = None, f"{type(err).__name__}: {err}".splitlines()[0][:500]
        finally:
            tail = output.restore(fd)
        return _result(
            spec,
            started,
            tail,
            outcome="error" if error else "ok",
            exit_code=exit_code,
            error=error,
            metrics=metrics,
        )

    return run, None


def _command_runner(payload: CommandPayload, output: _Output) -> Runner:
    wants_job_file = "job_file" in placeholders_in(payload.argv)

    def run(spec: AttemptSpec) -> AttemptResult:
        started = time.time()
        values = job_values(spec.job, spec.artifacts_dir, spec.attempt, spec.run_id)
        try:
            fd = output.to_file(spec.artifacts_dir)
        except OSError as err:
            return _unwritable(spec, started, err)
        if wants_job_file:
            try:
                Path(values["job_file"]).write_text(json.dumps(dict(spec.job)), encoding="utf-8")
            except OSError as err:
                output.restore(fd)
                return _unwritable(spec, started, err)
        env = {
            **os.environ,
            "TRAINPLAN_RUN_ID": spec.run_id,
            "TRAINPLAN_PLAN_ID": spec.plan_id,
            "TRAINPLAN_JOB_ID": values["job_id"],
            "TRAINPLAN_ATTEMPT": values["attempt"],
            "TRAINPLAN_ARTIFACTS_DIR": spec.artifacts_dir,
        }
        argv = render(payload.argv, values)
        pid = None
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, cwd=payload.cwd, env=env)
            pid = proc.pid
            code = proc.wait()
            error = None if code == 0 else f"exit status {code}"
        except OSError as err:
            code, error = 127, f"cannot run {argv[0]!r}: {err.strerror or err}"
            with contextlib.suppress(OSError):
                os.write(fd, (error + "\n").encode())
        finally:
            tail = output.restore(fd)
        metrics, metrics_error = _command_metrics(spec.artifacts_dir)
        return _result(
            spec,
            started,
            tail,
            outcome="ok" if code == 0 and not metrics_error else "error",
            exit_code=code,
            error=error or metrics_error,
            metrics=metrics,
            pid=pid,
        )

    return run


def _command_metrics(artifacts_dir: str) -> tuple[dict[str, Any] | None, str | None]:
    path = os.path.join(artifacts_dir, METRICS_FILE)
    if not os.path.exists(path):
        return None, None
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return None, f"{METRICS_FILE}: unreadable ({err})"
    return _metrics_of(doc)


def runner_for(payload: Payload, output: _Output) -> tuple[Runner, str | None]:
    if isinstance(payload, TrainerPayload):
        return _trainer_runner(payload, output)
    return _command_runner(payload, output), None


def _watch_parent(task_fd: int) -> None:
    """Kill this process group when the task pipe hangs up (the train process is gone)."""

    def watch() -> None:
        poller = select.poll()
        poller.register(task_fd, 0)  # POLLHUP and POLLERR are always reported
        while True:
            for _fd, events in poller.poll():
                if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def main(argv: list[str]) -> int:
    tasks = Connection(int(argv[1]), writable=False)
    results = Connection(int(argv[2]), readable=False)
    _watch_parent(int(argv[1]))
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        output = _Output()
        _kind, payload = tasks.recv()
        runner, error = runner_for(payload, output)
        results.send(("ready", os.getpid(), error))
        while True:
            try:
                spec = tasks.recv()
            except EOFError:
                return 0
            if spec is None:
                return 0
            results.send(("result", runner(spec)))
    except (BrokenPipeError, EOFError):
        return 0
    except BaseException:
        with contextlib.suppress(OSError):
            results.send(("fatal", traceback.format_exc()))
        return 70


if __name__ == "__main__":
    sys.exit(main(sys.argv))
