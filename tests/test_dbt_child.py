"""The refresh's dbt child (trainplan.warehouse.dbt_child) and the WAL safeguard after it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from trainplan.config.settings import make_settings
from trainplan.warehouse.dbt_child import GC_THRESHOLDS
from trainplan.warehouse.dbt_runner import (
    DBT_CHILD,
    DbtBuildError,
    build_database,
    building_path,
    dbt_command,
    fold_wal,
)

from bench.refresh import is_dbt_build
from tests.conftest import SAMPLE_RUN

CHILD = """
import gc, json, sys
from trainplan.warehouse.dbt_child import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def _child(*argv: str) -> tuple[dict, str]:
    done = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout + done.stderr


def test_the_child_runs_dbts_command_line_with_its_collector_settings() -> None:
    result, output = _child("--version")
    assert "Core:" in output and "duckdb:" in output  # dbt's own answer, with its adapter
    assert result["status"] == 0
    assert tuple(result["thresholds"]) == GC_THRESHOLDS != (700, 10, 10)
    assert result["frozen"] > 10_000  # what dbt kept is out of the final collection's reach


def test_the_child_returns_dbts_exit_status() -> None:
    result, output = _child("build", "--no-such-option")
    assert result["status"] == 2  # dbt's: a command line it does not take
    assert "No such option" in output


def test_a_refresh_runs_dbt_through_the_child() -> None:
    assert dbt_command() == [sys.executable, "-P", "-m", DBT_CHILD]
    done = subprocess.run([*dbt_command(), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Core:" in done.stdout


def test_a_wal_left_beside_a_built_database_is_folded_into_it(tmp_path: Path) -> None:
    db = tmp_path / "built.duckdb"
    wal = db.with_name("built.duckdb.wal")
    writer = f"import duckdb, os; c = duckdb.connect({str(db)!r}); c.execute('create table t as select range as i from range(1000)'); os._exit(0)"
    subprocess.run([sys.executable, "-c", writer], check=True)
    assert wal.exists()  # the writer never closed DuckDB
    fold_wal(db)
    assert not wal.exists()
    moved = db.rename(tmp_path / "moved.duckdb")  # the file alone is the whole database
    assert duckdb.connect(str(moved), read_only=True).execute("select count(*), sum(i) from t").fetchone() == (
        1000,
        499500,
    )


def test_a_closed_database_is_left_as_it_is(tmp_path: Path) -> None:
    db = tmp_path / "built.duckdb"
    duckdb.connect(str(db)).execute("create table t as select 1 as i").close()
    before = db.stat().st_mtime_ns
    fold_wal(db)
    assert db.stat().st_mtime_ns == before and not db.with_name("built.duckdb.wal").exists()


def test_a_wal_duckdb_cannot_fold_fails_the_build_and_leaves_no_building_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(run_dir=SAMPLE_RUN, out_dir=tmp_path / "out", db_path=tmp_path / "db" / "t.duckdb")
    building = building_path(settings.db_path)

    def dbt_leaves_a_wal_beside_a_broken_file(*_args: object, **_kwargs: object) -> subprocess.CompletedProcess[str]:
        building.write_bytes(b"not a database" * 1000)
        building.with_name(building.name + ".wal").write_bytes(b"not a write-ahead log" * 100)
        return subprocess.CompletedProcess([], 0, "", "")

    monkeypatch.setattr("trainplan.warehouse.dbt_runner.subprocess.run", dbt_leaves_a_wal_beside_a_broken_file)
    with pytest.raises(DbtBuildError) as raised:
        build_database(settings)
    assert str(raised.value).startswith(f"{building}: dbt build left DuckDB's WAL beside the database and DuckDB ")
    assert str(raised.value).endswith("; the previous plan is unchanged")
    assert sorted(p.name for p in building.parent.iterdir()) == []


def test_a_real_build_closes_duckdb_itself_so_no_wal_is_left_to_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt-duckdb's atexit handler closes the database even though the child freezes what dbt kept: fold_wal is a
    safeguard, not the way every build ends."""
    settings = make_settings(run_dir=SAMPLE_RUN, out_dir=tmp_path / "out", db_path=tmp_path / "db" / "t.duckdb")
    seen: list[bool] = []

    def record(path: Path) -> None:
        seen.append(path.with_name(path.name + ".wal").exists())
        fold_wal(path)

    monkeypatch.setattr("trainplan.warehouse.dbt_runner.fold_wal", record)
    built = build_database(settings)
    assert seen == [False]
    assert duckdb.connect(str(built.db_path), read_only=True).execute("select count(*) from training_jobs").fetchone()


def test_without_dbt_the_refresh_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dbt(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name.split('.')[0]!r}")

    monkeypatch.setattr("trainplan.warehouse.dbt_runner.importlib.util.find_spec", no_dbt)
    with pytest.raises(DbtBuildError, match=r"^dbt is not installed in this environment \(run `make demo`"):
        dbt_command()


def test_the_benchmark_knows_a_refresh_dbt_child_and_plain_dbt() -> None:
    child = [b"/venv/bin/python", b"-P", b"-m", DBT_CHILD.encode(), b"build", b"--project-dir", b"/p"]
    assert is_dbt_build(child)
    assert is_dbt_build([b"/venv/bin/python", b"/venv/bin/dbt", b"build"])
    assert not is_dbt_build([b"/venv/bin/python", b"-P", b"-m", DBT_CHILD.encode(), b"--version"])
    assert not is_dbt_build([b"/venv/bin/python", b"-m", b"trainplan", b"build"])
