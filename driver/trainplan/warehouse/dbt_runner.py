"""Running `dbt build` in a child process, into a fresh DuckDB file that replaces the old one only on success.

dbt-duckdb holds the database file locked for the life of the process that ran dbt, so dbt never runs inside
the driver's own process. A failed build leaves the previous database (and so the previous plan) untouched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from trainplan.config.settings import MEMORY_LIMIT_ENV, Settings
from trainplan.errors import TrainplanError
from trainplan.warehouse.functions import without_duckdb_prefix

RUN_RESULTS = "run_results.json"
DBT_CHILD = "trainplan.warehouse.dbt_child"
NOT_INSTALLED = "dbt is not installed in this environment (run `make demo` or `make test` to set up .venv)"


class DbtBuildError(TrainplanError):
    """dbt build failed; the message carries dbt's own error lines."""


@dataclass(frozen=True)
class DbtResult:
    db_path: Path
    log: str


def dbt_command() -> list[str]:
    """How a refresh runs dbt: its command line, through `trainplan.warehouse.dbt_child` (which spares the child's
    exit a last garbage collection), in this interpreter's environment (the project's virtual environment). `-P`:
    the working directory, the dbt project, is not searched for Python modules."""
    try:
        installed = importlib.util.find_spec("dbt.cli") is not None
    except ModuleNotFoundError:  # no `dbt` package at all
        installed = False
    if not installed:
        raise DbtBuildError(NOT_INSTALLED)
    return [sys.executable, "-P", "-m", DBT_CHILD]


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project's virtual environment), else the one on PATH."""
    local = Path(sys.executable).parent / "dbt"
    if local.is_file():
        return str(local)
    found = shutil.which("dbt")
    if not found:
        raise DbtBuildError(NOT_INSTALLED)
    return found


def dbt_env(settings: Settings, db_path: Path, previous_lanes: Path | None = None) -> dict[str, str]:
    """The child's environment: the paths dbt's project reads (with `previous_lanes`, the previous plan's lanes
    file for route hysteresis), and no telemetry or version check.

    dbt's file log (logs/dbt.log) is kept at level info unless DBT_LOG_LEVEL_FILE says otherwise: at debug it holds
    every SQL statement, and the staging models' statements name every raw file (M, 100,000 files: 50 MB of log, a
    ninth of the build). `DBT_LOG_LEVEL_FILE=debug trainplan refresh ...` logs them; the compiled SQL of every
    model is in target/ either way. DuckDB's memory limit is env TRAINPLAN_MEMORY_LIMIT as the settings checked it,
    else profiles.yml's default."""
    env = dict(os.environ)
    env.setdefault("DBT_LOG_LEVEL_FILE", "info")
    env.update(
        {
            "TRAINPLAN_DB": str(db_path),
            "TRAINPLAN_POLICY": str(settings.policy_path),
            "TRAINPLAN_RUN_DIR": str(settings.run_dir) if settings.run_dir else "",
            "TRAINPLAN_CANDIDATES_FILE": str(settings.candidates_file) if settings.candidates_file else "",
            "TRAINPLAN_PREVIOUS_LANES": str(previous_lanes) if previous_lanes else "",
            "TRAINPLAN_THREADS": str(settings.threads),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_VERSION_CHECK": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    env.pop(MEMORY_LIMIT_ENV, None)  # unset or blank: profiles.yml's default
    if settings.memory_limit:
        env[MEMORY_LIMIT_ENV] = settings.memory_limit
    return env


def dbt_paths(project: Path, work: Path) -> list[str]:
    """The dbt arguments naming the project, its profiles and where target/ and logs/ go."""
    return [
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_TIME = re.compile(r"^\d\d:\d\d:\d\d\s+")
_ERROR_HEADER = re.compile(r"^[A-Za-z ]*(Error|Failure) in \w+ \S+ \(.*\)$")
_PYTHON_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Exception|Error): (.+)$")  # a traceback's last line
MAX_REASONS = 50  # more lines than that help no one: dbt's log has them all
MAX_MESSAGE_LINES = 10  # of dbt's message under one error header in its console output
FAILED_STATUSES = ("error", "fail", "runtime error")
PYTHON_FRAMES = "At:"  # DuckDB: the traceback of a Python SQL function that raised (trainplan.warehouse.functions)


def _clean(line: str) -> str:
    return without_duckdb_prefix(_LOG_TIME.sub("", _ANSI.sub("", line))).strip()


def _without_python_frames(lines: list[str]) -> list[str]:
    """The lines before the Python frames DuckDB appends to an error a Python SQL function raised ("At:", then one
    line per frame): the message names the file and the reason, the frames are not the user's business."""
    return lines[: lines.index(PYTHON_FRAMES)] if PYTHON_FRAMES in lines else lines


def _result_reasons(results: list[dict[str, Any]]) -> list[str]:
    """One line per distinct failure reason of dbt's run results: dbt's own message, and the node that failed."""
    nodes: dict[str, list[str]] = {}
    for result in results:
        if str(result.get("status")) not in FAILED_STATUSES:
            continue
        parts = str(result.get("unique_id") or "").split(".")
        node = f"{parts[0]} {parts[2]}" if len(parts) > 2 else "dbt"
        lines = _without_python_frames([_clean(line) for line in str(result.get("message") or "").splitlines()])
        body = [line for line in lines if line and not _ERROR_HEADER.match(line) and not line.startswith(">")]
        body = body or ["failed (no message)"]
        if result.get("status") == "fail":
            body = [f"failed: {' '.join(body)}"]
        for line in body:
            nodes.setdefault(line, []).append(node)
    out = []
    for line, where in nodes.items():
        also = f" (and {len(where) - 1} more)" if len(where) > 1 else ""
        out.append(line if line.startswith("routing policy error") else f"{where[0]}{also}: {line}")
    return out


def _log_reasons(log: str) -> list[str]:
    """dbt's error lines from its console output (when it wrote no run results, e.g. a project that does not parse
    or a model that does not compile). A header "Compilation Error in model m (path)" is followed by dbt's message
    lines: they are what the user needs, so they are joined onto the node ("model m: <message>")."""
    lines = [_clean(line) for line in log.splitlines()]
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _ERROR_HEADER.match(line)
        if header:
            body: list[str] = []
            i += 1
            while i < len(lines) and lines[i] and not lines[i].startswith(">") and len(body) < MAX_MESSAGE_LINES:
                body.append(lines[i])
                i += 1
            body = _without_python_frames(body)
            parts = line.split(" in ", 1)[1].split(" (", 1)[0] if " in " in line else "dbt"
            text = f"{parts}: {' '.join(body)}" if body else line
            if text not in out:
                out.append(text)
            continue
        if (
            any(k in line for k in ("Error", "error", "ERROR", "Failure"))
            and line not in out
            and not line.startswith("Completed with")
            and not line.endswith(":")
        ):
            out.append(line)
        i += 1
    return _without_repeats(out) or [line for line in lines if line][-5:]


def _without_repeats(lines: list[str]) -> list[str]:
    """dbt prints an error it did not expect twice, as its message and as its traceback's last line
    ("_duckdb.OutOfMemoryException: <message>"): the message is kept."""
    said = set(lines)
    return [line for line in lines if not ((match := _PYTHON_EXCEPTION.match(line)) and match.group(1) in said)]


def memory_hint(reasons: list[str], memory_limit: str | None) -> str | None:
    """What to change when DuckDB ran out of memory in the build: its limit, env TRAINPLAN_MEMORY_LIMIT."""
    if not any("Out of Memory Error" in reason for reason in reasons):
        return None
    now = f"{memory_limit!r}" if memory_limit else "unset, so profiles.yml's default"
    return f"the build's DuckDB memory limit is env {MEMORY_LIMIT_ENV} ({now}); raise it, e.g. {MEMORY_LIMIT_ENV}=8GB"


def failure_message(returncode: int, work: Path, log: str, memory_limit: str | None = None) -> str:
    """Why dbt build failed, in dbt's own words: one line when there is one reason, else one line per reason (and,
    when DuckDB ran out of memory, which setting raises its limit)."""
    try:
        doc = json.loads((work / "target" / RUN_RESULTS).read_text(encoding="utf-8"))
        reasons = _result_reasons(list(doc.get("results") or []))
    except (OSError, ValueError, AttributeError, TypeError):
        reasons = []
    reasons = reasons or _log_reasons(log)
    more = f" (and {len(reasons) - MAX_REASONS} more)" if len(reasons) > MAX_REASONS else ""
    head = f"dbt build failed (exit {returncode}; the previous plan is unchanged; dbt's log: {work / 'logs'})"
    hint = memory_hint(reasons, memory_limit)
    if len(reasons) == 1:
        return f"{head}: {reasons[0]}" + (f"; {hint}" if hint else "")
    return "\n".join([f"{head}{more}:", *reasons[:MAX_REASONS], *([hint] if hint else [])])


def _die_with_parent() -> None:
    """In the dbt child (Linux): receive SIGKILL when the parent dies, so a killed refresh leaves no dbt behind."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        pr_set_pdeathsig = 1
        ctypes.CDLL(libc_name, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def building_path(db_path: Path) -> Path:
    """Where a build writes before its database replaces the current one: `trainplan_building_<hash>.duckdb` beside
    it. The name never comes from the user's file name: dbt-duckdb names its catalog after the name's first
    dot-separated part, and DuckDB renames a reserved one (`temp.duckdb` is catalog `temp_db` to DuckDB, `temp` to
    dbt), so `--db temp.duckdb` would fail."""
    key = hashlib.sha256(db_path.name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return db_path.with_name(f"trainplan_building_{key}.duckdb")


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log of the database file `path`: `<file>.wal` beside it."""
    return path.with_name(path.name + ".wal")


def remove_database(path: Path) -> None:
    """The database file, its WAL and the folder DuckDB spills to past its memory limit (`<database>.tmp/`, left
    behind only when the build was killed)."""
    for file in (path, wal_path(path)):
        file.unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + ".tmp"), ignore_errors=True)


def build_database(
    settings: Settings,
    extra_args: list[str] | None = None,
    *,
    unit_tests: bool = False,
    previous_lanes: Path | None = None,
) -> DbtResult:
    """dbt build into a fresh `building_path(db)` file (the current database is untouched); returns that file.

    dbt unit tests check the SQL, not the run's inputs, so a refresh skips them unless `unit_tests` is set
    (plain `dbt build` and the test suite run them). The dbt child dies with this process.
    """
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    building = building_path(settings.db_path)
    remove_database(building)
    work = settings.dbt_work_dir
    (work / "target" / RUN_RESULTS).unlink(missing_ok=True)  # a failure must not be explained by an older run
    cmd = [
        *dbt_command(),
        "build",
        *dbt_paths(settings.project, work),
        *([] if unit_tests else ["--exclude-resource-type", "unit_test"]),
        *(extra_args or []),
    ]
    proc = subprocess.run(
        cmd,
        cwd=settings.project,
        env=dbt_env(settings, building, previous_lanes),
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=_die_with_parent,  # only prctl(2) runs between fork and exec
    )
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        remove_database(building)
        raise DbtBuildError(failure_message(proc.returncode, work, log, settings.memory_limit))
    try:
        fold_wal(building)
    except duckdb.Error as error:
        remove_database(building)
        raise DbtBuildError(
            f"{building}: dbt build left DuckDB's WAL beside the database and DuckDB could not fold it in ({error}); "
            "the previous plan is unchanged"
        ) from error
    return DbtResult(db_path=building, log=log)


def fold_wal(path: Path) -> None:
    """A database whose WAL is still beside it once its writer has exited (DuckDB was not closed, so its last
    checkpoint was not written) is opened and closed here, which writes that checkpoint: the file alone is then the
    whole database, as moving it into place needs. As dbt exits, dbt-duckdb's `atexit` handler drops its
    environment, whose `__del__` closes DuckDB; in the builds measured nothing else held it, so the WAL was gone
    (a test checks it). This is for the day something does (a cycle `gc.freeze()` keeps, see dbt_child.py)."""
    if wal_path(path).exists():
        duckdb.connect(str(path)).close()


def run_dbt_build(
    settings: Settings,
    extra_args: list[str] | None = None,
    before_replace: Callable[[Path], None] | None = None,
    *,
    unit_tests: bool = False,
) -> DbtResult:
    """dbt build, then the new database atomically replaces the current one (dbt only; no plan is exported).

    `before_replace(building)` may veto the new database by raising: the old one then stays in place.
    """
    built = build_database(settings, extra_args, unit_tests=unit_tests)
    if before_replace is not None:
        try:
            before_replace(built.db_path)
        except BaseException:
            remove_database(built.db_path)
            raise
    os.replace(built.db_path, settings.db_path)
    return DbtResult(db_path=settings.db_path, log=built.log)
