"""The job ledger: append-only JSON Lines, one file per run, read back for `--resume`, `runs` and SQL.

Layout of a ledger folder (default `<plan root>/globals/training_runs/`, outside the database and outside the
published `.plan-*` folders, which a refresh replaces):

    .lock                          held (flock) by the run appending to the ledger; says which run that is
    runs/<run_id>.jsonl            every record of one run, in the order they happened
    artifacts/<run_id>/attempt-<n>/<job>/   each attempt's files and its output.log (default artifacts root)

Records (one JSON object per line, key `record`): `session` (a `train` invocation: the pinned plan, options,
stale-check outcome; a resumed run gets one more), `attempt` (one per attempt event: `running` before the
attempt starts, then its end status) and `session_end`. `seq` numbers the records of a file.

Durability: each record is one `os.write` of a whole line to a file opened `O_APPEND`, issued before the
scheduler goes on (the `running` record before the attempt is submitted, the end record before its slot takes
another job). That survives a SIGKILL of `train` (the data is in the kernel), not a power loss: `--fsync` adds
an fsync per record for that. A line torn anyway (power loss, full disk) is skipped by every reader; the next
writer of that file ends it with a newline and a `#` marker line (invalid JSON in any parser state, so a
reader that resumes after the torn line never swallows the next record) and reports the repair; `read_run`
counts torn lines (`RunLog.torn`) and `trainplan runs` reports them.

A full disk (or a read-only or forbidden file system) while a record is written stops the run with one line
(`LedgerWriteError`, exit 2): the attempts in flight are killed, the records written so far stay readable (a
partly written one is a torn line), and `--resume` runs what did not succeed once there is space again.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from trainplan.errors import STORAGE_ERRNOS, TrainplanError
from trainplan.plan.files import GLOBALS
from trainplan.plan.model import Job
from trainplan.plan.names import encode_name

LEDGER_DIR = "training_runs"
RUNS_DIR = "runs"
ARTIFACTS_DIR = "artifacts"
RUN_SUFFIX = ".jsonl"

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
TIMED_OUT = "timed_out"
CANCELLED = "cancelled"
INTERRUPTED = "interrupted"
STATUSES = (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, INTERRUPTED)
END_STATUSES = STATUSES[1:]

_RUN_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")


class LedgerError(TrainplanError):
    """A ledger or run that cannot be used as asked (unknown run, bad run id)."""


class LedgerWriteError(TrainplanError):
    """A record could not be written (full disk, read-only or forbidden file system): the run stops."""


def default_ledger_dir(globals_dir: Path) -> Path:
    """`<globals>/training_runs`: beside the published plan, outside `.plan-*` and the database."""
    return globals_dir / LEDGER_DIR


def ledger_dir_of_root(plan_root: Path) -> Path:
    """The default ledger of a plan root (the folder holding globals/)."""
    return default_ledger_dir(plan_root / GLOBALS)


def new_run_id(now: datetime) -> str:
    """Sortable by start time: `20261204T101500Z-3f9a1c`."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise LedgerError(
            f"run id {run_id!r}: use letters, digits, '.', '_' and '-' (at most 128, not starting with '.')"
        )
    return run_id


def run_file(ledger_dir: Path, run_id: str) -> Path:
    return ledger_dir / RUNS_DIR / f"{run_id}{RUN_SUFFIX}"


def artifacts_dir(root: Path, run_id: str, job_id: str, attempt: int) -> str:
    """`<root>/<run_id>/attempt-<n>/<job>`, the job id made a safe file name (`trainplan.plan.names`).

    The attempt folder comes first so that a job's folder is the only one created per attempt (a directory costs
    about 0.1 ms on ext4, a tenth of the per-job budget)."""
    return os.path.join(root, run_id, f"attempt-{attempt}", encode_name(job_id))


def iso(epoch: float | None) -> str | None:
    """UTC, ISO 8601 with microseconds (DuckDB reads it as TIMESTAMP)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- writing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Repair:
    """A torn last record found (and ended) when a writer opened a run file."""

    path: Path
    torn_bytes: int

    def describe(self) -> str:
        return (
            f"ledger {self.path}: its last record was torn ({self.torn_bytes} bytes, written when a run was killed); "
            "ended it with a newline so new records start on a line of their own; readers skip the torn record"
        )


class LedgerWriter:
    """Appends whole records to one run file; see the module docstring for the ordering and durability rules."""

    def __init__(self, path: Path, next_seq: int = 1, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self.seq = next_seq - 1
        self.fd = -1
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as err:
            self._raise_write_error(err)
        self.repair = self._end_torn_line()

    def _raise_write_error(self, err: OSError) -> NoReturn:
        if err.errno not in STORAGE_ERRNOS:
            raise err
        run_id = self.path.name.removesuffix(RUN_SUFFIX)
        raise LedgerWriteError(
            f"ledger {self.path}: cannot write a record ({err.strerror or err}); the run stopped and its attempts "
            "in flight were killed; the records written so far are kept; expected a writable ledger folder with "
            f"free space: free some and resume with `trainplan train --resume --run {run_id}`"
        ) from err

    def _end_torn_line(self) -> Repair | None:
        size = os.fstat(self.fd).st_size
        if size == 0:
            return None
        with self.path.open("rb") as handle:
            handle.seek(max(0, size - 65536))
            tail = handle.read()
        if tail.endswith(b"\n"):
            return None
        torn = len(tail) - (tail.rfind(b"\n") + 1)
        self._write(b"\n#torn record above: ignored by readers\n")
        return Repair(self.path, torn)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(self.fd)
        except OSError as err:
            self._raise_write_error(err)

    def append(self, record: dict[str, Any]) -> None:
        self.seq += 1
        record["seq"] = self.seq
        self._write((json.dumps(record, separators=(",", ":")) + "\n").encode("ascii"))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def attempt_record(
    *,
    run_id: str,
    session: int,
    plan_id: str,
    job: Job,
    attempt: int,
    executor: str,
    host: str | None,
    pid: int | None,
    status: str,
    node: str | None = None,
    started_at: float | None,
    ended_at: float | None = None,
    exit_code: int | None = None,
    error: str | None = None,
    output_tail: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    artifacts_dir: str | None = None,
    artifacts: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    duration = None if started_at is None or ended_at is None else round(ended_at - started_at, 6)
    return {
        "record": "attempt",
        "run_id": run_id,
        "session": session,
        "plan_id": plan_id,
        "job_id": job.job_id,
        "target": job.target,
        "symbol": job.symbol,
        "training_type": job.training_type,
        "route": job.route,
        "priority": job.priority,
        "attempt": attempt,
        "executor": executor,
        "host": host,
        "node": node,
        "pid": pid,
        "status": status,
        "started_at": iso(started_at),
        "ended_at": iso(ended_at),
        "duration_s": duration,
        "exit_code": exit_code,
        "error": error,
        "output_tail": output_tail,
        "metrics": metrics,
        "artifacts_dir": artifacts_dir,
        "artifacts": list(artifacts),
    }


# --- reading -------------------------------------------------------------------------------------------------


def read_records(path: Path, torn: list[int] | None = None) -> Iterator[dict[str, Any]]:
    """The records of a run file, skipping `#` markers and torn lines (their line numbers go to `torn`)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.startswith(b"#"):
                continue
            try:
                record = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                record = None
            if isinstance(record, dict):
                yield record
            elif line.strip() and torn is not None:
                torn.append(number)


@dataclass
class RunLog:
    """One run as its file tells it: sessions, and the latest record of every (job, attempt)."""

    run_id: str
    path: Path
    sessions: list[dict[str, Any]] = field(default_factory=list)
    ends: list[dict[str, Any]] = field(default_factory=list)
    attempts: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    last_seq: int = 0
    torn: list[int] = field(default_factory=list)  # line numbers of torn records (skipped)

    @property
    def plan_id(self) -> str | None:
        return self.sessions[0].get("plan_id") if self.sessions else None

    def latest_attempt(self) -> dict[str, int]:
        """job id → the highest attempt number recorded."""
        out: dict[str, int] = {}
        for job_id, attempt in self.attempts:
            if attempt > out.get(job_id, 0):
                out[job_id] = attempt
        return out

    def succeeded(self) -> set[str]:
        return {job_id for (job_id, _), rec in self.attempts.items() if rec.get("status") == SUCCEEDED}

    def dangling(self) -> list[dict[str, Any]]:
        """Attempts recorded as running with no end: in flight when `train` was killed."""
        return [rec for rec in self.attempts.values() if rec.get("status") == RUNNING]


def read_run(path: Path) -> RunLog:
    log = RunLog(run_id=path.name.removesuffix(RUN_SUFFIX), path=path)
    for record in read_records(path, log.torn):
        kind = record.get("record")
        log.last_seq = max(log.last_seq, int(record.get("seq") or 0))
        if kind == "attempt":
            log.attempts[(str(record.get("job_id")), int(record.get("attempt") or 0))] = record
        elif kind == "session":
            log.sessions.append(record)
        elif kind == "session_end":
            log.ends.append(record)
    return log


def first_record(path: Path) -> dict[str, Any] | None:
    return next(read_records(path), None)


def run_files(ledger_dir: Path) -> list[Path]:
    folder = ledger_dir / RUNS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.endswith(RUN_SUFFIX) and p.is_file())


def latest_run_id(ledger_dir: Path) -> str | None:
    """The run whose first session started last (ties: the larger run id)."""
    best: tuple[str, str] | None = None
    for path in run_files(ledger_dir):
        head = first_record(path) or {}
        key = (str(head.get("started_at") or ""), path.name.removesuffix(RUN_SUFFIX))
        if best is None or key > best:
            best = key
    return best[1] if best else None


def succeeded_under(ledger_dir: Path, plan_id: str, logs: Mapping[str, RunLog]) -> dict[str, str]:
    """job id → a run that recorded it succeeded under `plan_id` (the runs in `logs` are not read again)."""
    out: dict[str, str] = {}
    for path in run_files(ledger_dir):
        run_id = path.name.removesuffix(RUN_SUFFIX)
        log = logs.get(run_id)
        if log is None:
            head = first_record(path)
            if head is None or head.get("plan_id") != plan_id:
                continue
            log = read_run(path)
        elif log.plan_id != plan_id:
            continue
        for job_id in log.succeeded():
            out.setdefault(job_id, run_id)
    return out
