"""refresh = check the inputs, dbt build into a fresh database, export the plan from it, then swap both in.

The database and the plan are one unit. A refresh builds a fresh database file beside `<db>` (`building_path`), exports its plan into a staged
`globals/.plan-<token>/` (not yet published), writes a journal naming both, replaces the database, publishes the
plan and removes the journal. A refresh killed before the database swap leaves the previous database and plan; one
killed after it leaves the journal, and the next refresh or export on that database finishes the publication
(`recover`) before doing anything else. One writer at a time: `<db>.lock` and `<plan root>/globals/.lock`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from trainplan.config.policy import load_policy_document
from trainplan.config.policy_check import check_policy_file
from trainplan.config.run_dir import check_readable_path, check_run_dir
from trainplan.config.settings import Settings, SettingsError, make_settings, record_last_refresh
from trainplan.errors import storage_errors
from trainplan.export.export import PLAN_FOLDERS, ExportResult, export_plan
from trainplan.export.store import publish
from trainplan.locking import exclusive_all
from trainplan.plan.files import GLOBALS
from trainplan.plan.previous import published_plan, write_previous_lanes
from trainplan.samples.sample import SampleOptions, generate_sample
from trainplan.warehouse.database import read_only
from trainplan.warehouse.dbt_runner import build_database, remove_database
from trainplan.warehouse.rejects import fail_on_rejects, fetch_rejects

PARQUET_MAGIC = b"PAR1"
# The columns read_parquet adds to a candidates file's rows (models/staging/candidates/_candidates__sources.yml).
READER_COLUMNS = {"file_row_number": "the row's position", "trainplan_source_file": "the file's path"}
SAMPLE_RUN = Path("examples/sample_run")
DEMO_DIR = "demo"
LOCK_SUFFIX = ".lock"
JOURNAL_SUFFIX = ".refresh-journal.json"
PREVIOUS_LANES = "previous_lanes.parquet"


@dataclass(frozen=True)
class RefreshResult:
    db_path: Path
    master_plan: Path
    n_rejects: int
    plan_id: str
    recovered: str | None  # what was repaired of an earlier, interrupted refresh
    previous_plan: Path | None  # the plan the decisions' hysteresis and previous routes were read from
    warnings: tuple[str, ...] = ()  # the policy's threshold orderings that leave a state unreachable


@dataclass(frozen=True)
class ExportOutcome:
    result: ExportResult
    recovered: str | None


def check_inputs(settings: Settings) -> None:
    if settings.run_dir is None and settings.candidates_file is None:
        raise SettingsError("nothing to read: give --run-dir DIR or --candidates FILE")
    if settings.run_dir is not None and settings.candidates_file is not None:
        raise SettingsError("give either --run-dir DIR or --candidates FILE, not both (a build reads one of them)")
    if settings.run_dir is not None:
        check_run_dir(settings.run_dir)
    if settings.candidates_file is not None:
        check_candidates_file(settings.candidates_file)
    if not settings.policy_path.is_file():
        raise SettingsError(
            f"routing policy not found: {settings.policy_path} (option --policy / env TRAINPLAN_POLICY)"
        )


def check_candidates_file(path: Path) -> None:
    """A ready candidates file must exist, be a parquet file (PAR1 magic at both ends, a readable footer) and have
    no column named like one the reader adds (READER_COLUMNS)."""
    expected = "expected a routing_candidates.parquet as the reference writes it (globals/routing/)"
    if not path.is_file():
        raise SettingsError(f"{path}: no such file; {expected}")
    check_readable_path(path.resolve(), "the candidates file")
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, path.stat().st_size - 4))
        tail = handle.read(4)
    if path.stat().st_size < 12 or head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise SettingsError(f"{path}: not a parquet file; {expected}")
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as error:
        raise SettingsError(f"{path}: not a readable parquet file ({error}); {expected}") from None
    for name in names:
        if name.lower() in READER_COLUMNS:  # DuckDB's column names ignore case
            raise SettingsError(
                f"{path}: column {name!r} is a name trainplan's reader gives {READER_COLUMNS[name.lower()]}; "
                "expected the reference's columns (rename or drop it)"
            )


def writer_locks(settings: Settings, *, database: bool) -> list[tuple[Path, str]]:
    """The locks a writer of the plan root (and, with `database`, of the database) takes."""
    locks = [(settings.plan_root / GLOBALS / LOCK_SUFFIX, f"the plan folder {settings.plan_root / GLOBALS}")]
    if database:
        locks.append(
            (settings.db_path.with_name(settings.db_path.name + LOCK_SUFFIX), f"the database {settings.db_path}")
        )
    return locks


def _journal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + JOURNAL_SUFFIX)


def recover(db_path: Path) -> str | None:
    """Finish or undo a refresh that died between its database swap and its plan's publication; say what was done."""
    journal = _journal_path(db_path)
    if not journal.is_file():
        return None
    try:
        doc = json.loads(journal.read_text(encoding="utf-8"))
        building, staging, globals_dir = Path(doc["building"]), Path(doc["staging"]), Path(doc["globals_dir"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SettingsError(
            f"{journal}: unreadable refresh journal ({err}); expected building, staging, globals_dir"
        ) from err
    if building.exists():  # died before the database swap: the previous database and plan are still a pair
        remove_database(building)
        shutil.rmtree(staging, ignore_errors=True)
        outcome = "an interrupted refresh was rolled back (its new database had not replaced the old one)"
    elif staging.is_dir():  # died after the swap: publish the plan exported from the new database
        publish(globals_dir, staging, PLAN_FOLDERS)
        outcome = f"an interrupted refresh was completed: its plan {staging.name} was published"
    else:
        outcome = "an interrupted refresh left nothing to repair"
    journal.unlink()
    return outcome


def refresh(settings: Settings, strict: bool = False, wait: float = 0.0) -> RefreshResult:
    """Build and export. With `strict`, any rejected input fails the refresh and keeps the previous plan.

    The previous plan (`settings.previous_plan`, else the plan published under the plan root) is read first: its
    lanes go to dbt as the source `previous_plan` (route hysteresis, previous routes); none before a first run."""
    check_inputs(settings)
    warnings = tuple(check_policy_file(settings.policy_path))
    with storage_errors("refreshing", "the previous plan is unchanged", settings.plan_root / GLOBALS):
        return _refresh(settings, strict, wait, warnings)


def _refresh(settings: Settings, strict: bool, wait: float, warnings: tuple[str, ...]) -> RefreshResult:
    with exclusive_all(writer_locks(settings, database=True), wait):
        recovered = recover(settings.db_path)
        previous = settings.previous_plan or published_plan(settings.plan_root)
        lanes = write_previous_lanes(previous, settings.dbt_work_dir / PREVIOUS_LANES)
        building = build_database(settings, previous_lanes=lanes).db_path
        try:
            if strict:
                fail_on_rejects(building)
            with read_only(building) as con:
                n_rejects = len(fetch_rejects(con))
                exported = export_plan(
                    con,
                    plan_root=settings.plan_root,
                    project=settings.project,
                    publish=False,
                )
        except BaseException:
            remove_database(building)
            raise
        _swap_in(settings, building, exported)
    record_last_refresh(settings)
    return RefreshResult(
        db_path=settings.db_path,
        master_plan=exported.master_plan,
        n_rejects=n_rejects,
        plan_id=exported.plan_id,
        recovered=recovered,
        previous_plan=previous,
        warnings=warnings,
    )


def _swap_in(settings: Settings, building: Path, exported: ExportResult) -> None:
    journal = _journal_path(settings.db_path)
    globals_dir = settings.plan_root / GLOBALS
    tmp = journal.with_name(journal.name + ".tmp")
    record = {"building": str(building), "staging": str(exported.staging), "globals_dir": str(globals_dir)}
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, journal)
    os.replace(building, settings.db_path)
    publish(globals_dir, exported.staging, PLAN_FOLDERS)
    journal.unlink()


def export_from_database(settings: Settings, wait: float = 0.0) -> ExportOutcome:
    """`trainplan export`: the plan from the current database, published under the database's and plan root's
    locks, after repairing an interrupted refresh of that database."""
    with (
        storage_errors("exporting", "the previous plan is unchanged", settings.plan_root / GLOBALS),
        exclusive_all(writer_locks(settings, database=True), wait),
    ):
        recovered = recover(settings.db_path)
        with read_only(settings.db_path) as con:
            result = export_plan(con, plan_root=settings.plan_root, project=settings.project)
    return ExportOutcome(result, recovered)


def demo_settings() -> Settings:
    """The demo: the bundled sample run of a checkout (else the same sample generated into the state folder),
    planned into `<state>/demo/` with its own database."""
    base = make_settings()
    out = base.state_dir / DEMO_DIR
    run_dir = base.project / SAMPLE_RUN
    if not run_dir.is_dir():
        run_dir = out / "sample_run"
        if not run_dir.is_dir():
            generate_sample(SampleOptions(out=run_dir), load_policy_document(base.policy_path))
    return make_settings(run_dir=run_dir, out_dir=out, db_path=out / "trainplan.duckdb")
