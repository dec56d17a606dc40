"""The executor interface: what the scheduler asks of any executor (local processes, or tasks on a Ray cluster).

An executor only starts, kills and reports attempts. Everything a user relies on (priority, the in-flight cap,
retries, deadlines, cancellation on Ctrl-C, the ledger) lives in the scheduler, so every executor gets it:

- `free_slots()`: how many attempts it can start now (the scheduler submits no more than that, so the queue, not
  the executor, decides what runs next);
- `submit(spec)`: start one attempt, return its handle (non-blocking);
- `cancel(handle)`: kill it and everything it started; its result still arrives through `wait`, marked killed;
- `wait(timeout)`: the results that arrived, possibly none (after `timeout` seconds, or when a slot freed up);
- `broken()`: why nothing can run any more (the cluster went away), or None: the scheduler then stops the run.

Specs and results are plain data (strings, numbers, a JSON-ready job document) so that they can cross a process or
host boundary; nothing here assumes the attempt runs on this machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

JsonValue = Any  # a value json.dumps accepts (dict / list / str / number / bool / None)

Outcome = Literal["ok", "error", "killed"]


@dataclass(frozen=True)
class TrainerPayload:
    """Call `module:function` (or `path/to/file.py:function`) with the job and a TrainContext."""

    spec: str
    cwd: str  # the trainer resolves with this folder on sys.path (like `python -m`)


@dataclass(frozen=True)
class CommandPayload:
    """Run an argument list per job, placeholders substituted in each argument, never through a shell."""

    argv: tuple[str, ...]
    cwd: str


Payload = TrainerPayload | CommandPayload


@dataclass(frozen=True)
class AttemptSpec:
    """One attempt of one job, as the executor needs it."""

    key: int  # unique within the run: the scheduler's handle for this attempt
    job: Mapping[str, JsonValue]  # the job as the plan file holds it
    order: int  # the job's position in the plan
    run_id: str
    plan_id: str
    attempt: int  # 1 for the first attempt, 2 for the first retry, ...
    artifacts_dir: str  # created where the attempt runs, when it starts; the job's output log goes there


@dataclass(frozen=True)
class AttemptResult:
    """What an executor reports when an attempt has ended (normally, by failing, or because it was killed)."""

    key: int
    outcome: Outcome
    exit_code: int | None  # a command's exit status, or a worker's when it died; None for a trainer's return
    error: str | None  # one line: the exception, the exit status, or why it was killed
    metrics: Mapping[str, JsonValue] | None
    output_tail: str  # the last 4 KB of the attempt's stdout and stderr
    artifacts: Sequence[str]  # files in the artifacts folder, relative to it
    host: str
    pid: int | None  # the process that ran the attempt
    started_at: float  # epoch seconds
    ended_at: float
    node: str | None = None  # the Ray node id that ran the attempt (None for the local executor)


class Executor(Protocol):
    """Starts, kills and reports attempts; see the module docstring."""

    name: str
    host: str

    def free_slots(self) -> int: ...

    def submit(self, spec: AttemptSpec) -> int: ...

    def cancel(self, key: int) -> None: ...

    def wait(self, timeout: float) -> list[AttemptResult]: ...

    def broken(self) -> str | None:
        """Why no attempt can run any more (a Ray head that went away), or None. Once set, the attempts that were
        in flight have been (or are being) reported through `wait`; the scheduler starts nothing new."""
        ...

    def close(self) -> None: ...
