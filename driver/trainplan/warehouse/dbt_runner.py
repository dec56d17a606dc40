"""Running `dbt build` in a child process, into a fresh DuckDB file that replaces the old one only on success.

dbt-duckdb holds the database file locked for the life of the process that ran dbt, so dbt never runs inside
the driver's own process. A failed build leaves the previous database (and so the previous plan) untouched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trainplan.config.settings import Settings
from trainplan.errors import TrainplanError


class DbtBuildError(TrainplanError):
    """dbt build failed; the message carries dbt's own error lines."""


@dataclass(frozen=True)
class DbtResult:
    db_path: Path
    log: str


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project's virtual environment), else the one on PATH."""
    local = Path(sys.executable).parent / "dbt"
    if local.is_file():
        return str(local)
    found = shutil.which("dbt")
    if not found:
        raise DbtBuildError("dbt is not installed in this environment (run `make demo` or `make test` to set up .venv)")
    return found


def dbt_env(settings: Settings, db_path: Path, previous_lanes: Path | None = None) -> dict[str, str]:
    """The child's environment: the paths dbt's project reads (with `previous_lanes`, the previous plan's lanes
    file for route hysteresis), and no telemetry or version check."""
    env = dict(os.environ)
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


def _error_lines(log: str) -> str:
    keep = [
        line
        for line in log.splitlines()
        if any(k in line for k in ("Error", "error", "ERROR", "Failure", "FAIL ", "fail"))
    ]
    return "\n".join(keep[-40:]) or log[-4000:]


def _die_with_parent() -> None:
    """In the dbt child (Linux): receive SIGKILL when the parent dies, so a killed refresh leaves no dbt behind."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        pr_set_pdeathsig = 1
        ctypes.CDLL(libc_name, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def building_path(db_path: Path) -> Path:
    """Where a build writes before its database replaces the current one."""
    return db_path.with_name(db_path.name + ".building")


def remove_database(path: Path) -> None:
    for file in (path, path.with_name(path.name + ".wal")):
        file.unlink(missing_ok=True)


def build_database(
    settings: Settings,
    extra_args: list[str] | None = None,
    *,
    unit_tests: bool = False,
    previous_lanes: Path | None = None,
) -> DbtResult:
    """dbt build into a fresh `<db>.building` file (the current database is untouched); returns that file.

    dbt unit tests check the SQL, not the run's inputs, so a refresh skips them unless `unit_tests` is set
    (plain `dbt build` and the test suite run them). The dbt child dies with this process.
    """
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    building = building_path(settings.db_path)
    remove_database(building)
    work = settings.dbt_work_dir
    cmd = [
        dbt_executable(),
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
        raise DbtBuildError(
            f"dbt build failed (exit {proc.returncode}); the previous plan is unchanged.\n{_error_lines(log)}"
        )
    return DbtResult(db_path=building, log=log)


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
