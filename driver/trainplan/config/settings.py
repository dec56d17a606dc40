"""Where things are: the dbt project, the run directory (input), the DuckDB file, the policy and the plan root (output)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from trainplan.config.project import default_policy, project_dir, state_dir
from trainplan.errors import TrainplanError

DB_FILE = "trainplan.duckdb"
LAST_REFRESH = "last_refresh.json"
MEMORY_LIMIT_ENV = "TRAINPLAN_MEMORY_LIMIT"  # DuckDB's memory limit for the build; its default is in profiles.yml


class SettingsError(TrainplanError, ValueError):
    """A path or option the driver cannot work with."""


@dataclass(frozen=True)
class Settings:
    """Everything one refresh or export needs to know. All paths are absolute."""

    project: Path
    state_dir: Path
    db_path: Path
    policy_path: Path
    run_dir: Path | None = None
    candidates_file: Path | None = None
    out_dir: Path | None = None
    threads: int = 2
    previous_plan: Path | None = None  # --previous; None: the plan published under plan_root (if any)
    memory_limit: str | None = None  # env TRAINPLAN_MEMORY_LIMIT; None: profiles.yml's default

    @property
    def dbt_work_dir(self) -> Path:
        """dbt's target/ and logs/ for this database: in the state folder, never beside the database or the package."""
        key = hashlib.sha256(str(self.db_path).encode()).hexdigest()[:12]
        return self.state_dir / "dbt" / f"{self.db_path.stem}-{key}"

    @property
    def plan_root(self) -> Path:
        """Where globals/ is written: --out, else the run directory, else beside the candidates file."""
        if self.out_dir is not None:
            return self.out_dir
        if self.run_dir is not None:
            return self.run_dir
        if self.candidates_file is not None:
            return self.candidates_file.parent
        raise SettingsError("no output folder: give --out, --run-dir or --candidates")


def _absolute(path: Path) -> Path:
    return (path if path.is_absolute() else Path.cwd() / path).resolve()


def last_refresh(state: Path) -> tuple[Path, Path] | None:
    """(database, plan root) of the last refresh or demo recorded in the state folder, if any."""
    path = state / LAST_REFRESH
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return Path(doc["db"]), Path(doc["plan_root"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SettingsError(
            f"{path}: unreadable ({err}); expected {{'db': ..., 'plan_root': ...}} — delete it"
        ) from err


def record_last_refresh(settings: Settings) -> None:
    """Remember this refresh's database and plan root, so later commands find them without --db or --plan."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    path = settings.state_dir / LAST_REFRESH
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"db": str(settings.db_path), "plan_root": str(settings.plan_root)}), encoding="utf-8")
    os.replace(tmp, path)


def memory_limit_setting() -> str | None:
    """env TRAINPLAN_MEMORY_LIMIT, checked by DuckDB itself (its size syntax: 2GB, 1500MB, 4GiB); None when unset."""
    value = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not value:
        return None
    try:
        with duckdb.connect() as con:
            con.execute("set memory_limit = '" + value.replace("'", "''") + "'")
    except duckdb.Error as err:
        reason = str(err).splitlines()[0]
        raise SettingsError(
            f"{MEMORY_LIMIT_ENV}={value!r} is not a size DuckDB understands ({reason}); expected e.g. 2GB, 1500MB, 4GiB"
        ) from err
    return value


def make_settings(
    *,
    run_dir: Path | None = None,
    candidates_file: Path | None = None,
    out_dir: Path | None = None,
    db_path: Path | None = None,
    policy_path: Path | None = None,
    latest_db: bool = False,
    previous_plan: Path | None = None,
) -> Settings:
    """Resolve options and environment into absolute paths (TRAINPLAN_DB, TRAINPLAN_POLICY, TRAINPLAN_THREADS,
    TRAINPLAN_MEMORY_LIMIT).

    The database is `db_path`, else env TRAINPLAN_DB, else (with `latest_db`, for commands that only read it) the
    database of the last refresh or demo, else `<state>/trainplan.duckdb`.
    """
    project = project_dir()
    state = state_dir(project)
    db = db_path or (Path(os.environ["TRAINPLAN_DB"]) if os.environ.get("TRAINPLAN_DB") else None)
    if db is None and latest_db and (last := last_refresh(state)) is not None:
        db = last[0]
    db = db or state / DB_FILE
    policy = policy_path or (Path(os.environ["TRAINPLAN_POLICY"]) if os.environ.get("TRAINPLAN_POLICY") else None)
    policy = _absolute(policy) if policy else default_policy(project)
    threads = os.environ.get("TRAINPLAN_THREADS", "2")
    if not threads.isdigit() or int(threads) < 1:
        raise SettingsError(f"TRAINPLAN_THREADS must be a positive whole number, got {threads!r}")
    return Settings(
        project=project,
        state_dir=state,
        db_path=_absolute(db),
        policy_path=policy.resolve(),
        run_dir=_absolute(run_dir) if run_dir else None,
        candidates_file=_absolute(candidates_file) if candidates_file else None,
        out_dir=_absolute(out_dir) if out_dir else None,
        threads=int(threads),
        previous_plan=_absolute(previous_plan) if previous_plan else None,
        memory_limit=memory_limit_setting(),
    )
