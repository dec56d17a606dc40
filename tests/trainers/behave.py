"""Test trainers whose behaviour the test chooses through environment variables (inherited by the workers).

- TRAINPLAN_TEST_LOG: a file each trainer appends `<job_id> <pid> <nonce>` to when it starts (one os.write: lines never
  mix);
- TRAINPLAN_TEST_FAIL / _HANG / _EXIT: comma-separated job ids that raise / hang / call os._exit(3);
- TRAINPLAN_TEST_GATE: a file the trainer waits for before returning (a job "in flight" until the test creates it);
- TRAINPLAN_TEST_STOP_AFTER: with TRAINPLAN_TEST_GATE, only the first N starts (counted in TRAINPLAN_TEST_LOG)
  run freely; later ones wait for the gate;
- TRAINPLAN_TEST_SLEEP: seconds every job sleeps before it returns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any


def _ids(name: str) -> set[str]:
    return {v for v in os.environ.get(name, "").split(",") if v}


def _log_start(job_id: str) -> int:
    """Append the job id to the start log; return this start's position in it (1-based).

    The position is where this process's own line landed, not the line count after the write: two workers that
    append at the same moment would both count the other's line and both think they came last.
    """
    path = os.environ.get("TRAINPLAN_TEST_LOG")
    if not path:
        return 0
    line = f"{job_id} {os.getpid()} {uuid.uuid4().hex}"  # unique: a retry in the same worker repeats id and pid
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)
    return Path(path).read_text().splitlines().index(line) + 1


def _wait_for_gate() -> None:
    gate = os.environ.get("TRAINPLAN_TEST_GATE")
    if gate:
        while not os.path.exists(gate):
            time.sleep(0.02)


def train(job: Any, context: Any) -> dict[str, Any]:
    """Succeeds (unless the environment says otherwise) and reports what it was given."""
    started = _log_start(job.job_id)
    if job.job_id in _ids("TRAINPLAN_TEST_HANG"):
        print(f"{job.job_id} hangs", flush=True)
        time.sleep(3600)
    if job.job_id in _ids("TRAINPLAN_TEST_EXIT"):
        os._exit(3)
    if job.job_id in _ids("TRAINPLAN_TEST_FAIL"):
        raise RuntimeError(f"{job.job_id} failed on purpose")
    stop_after = int(os.environ.get("TRAINPLAN_TEST_STOP_AFTER", "0"))
    if not stop_after or started > stop_after:
        _wait_for_gate()
    time.sleep(float(os.environ.get("TRAINPLAN_TEST_SLEEP", "0")))
    (context.artifacts_dir / "model.txt").write_text(job.job_id)
    context.logger.info("trained %s", job.job_id)
    print(f"trained {job.job_id} attempt {context.attempt}")
    return {
        "score": 0.5,
        "job_id": job.job_id,
        "families": list(job.model_families),
        "excluded_features": list(job.excluded_features),
        "symbol": job.symbol,
        "attempt": context.attempt,
        "run_id": context.run_id,
        "plan_id": context.plan_id,
        "pid": os.getpid(),
    }


def noop(job: Any, context: Any) -> None:
    """Does nothing: the benchmark's trainer."""
    return None


def flaky(job: Any, context: Any) -> dict[str, Any]:
    """Fails its first attempt, succeeds on the second."""
    if context.attempt == 1:
        raise RuntimeError("first attempt fails")
    return {"attempt": context.attempt}


def loud(job: Any, context: Any) -> dict[str, Any]:
    """Prints 8 MB to stdout and some to stderr, then succeeds."""
    line = "x" * 1023 + "\n"
    for _ in range(8 * 1024):
        sys.stdout.write(line)
    print("LAST LINE OF STDOUT", flush=True)
    print("stderr says goodbye", file=sys.stderr)
    return {"printed_mb": 8}


def spawn_and_hang(job: Any, context: Any) -> None:
    """Starts a child process that records its pid, then hangs: a timeout must kill the child too."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    (context.artifacts_dir / "child.pid").write_text(str(child.pid))
    log = os.environ.get("TRAINPLAN_TEST_LOG")
    if log:
        Path(log).write_text(json.dumps({"child": child.pid, "worker": os.getpid()}))
    time.sleep(3600)


def not_a_dict(job: Any, context: Any) -> list[int]:
    return [1, 2, 3]


def nan_metrics(job: Any, context: Any) -> dict[str, Any]:
    return {"score": float("nan"), "inf": float("inf"), "ok": 1.5}


NOT_CALLABLE = 42
