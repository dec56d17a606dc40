"""Regression tests of the reliability issue's Python-side defects: copied databases, the SQL sandbox, diff and
validate, broken pipes, unwrapped paths, one writer at a time, and a refresh killed between database and plan."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from trainplan.warehouse.dbt_runner import building_path

from tests.conftest import SAMPLE_RUN, Built

TRAINPLAN = str(Path(sys.executable).parent / "trainplan")


def _cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRAINPLAN, *args], capture_output=True, text=True, check=False, cwd=cwd, env={**os.environ, **(env or {})}
    )


def test_a_copied_database_stays_readable(sample_built: Built, tmp_path: Path) -> None:
    backup = tmp_path / "backup copy.duckdb"
    shutil.copyfile(sample_built.db_path, backup)
    proc = _cli("summary", "--db", str(backup))
    assert proc.returncode == 0, proc.stderr
    assert "ROUTE_BOTH" in proc.stdout
    proc = _cli("sql", "select count(*) as n from routing_decisions where symbol is null", "--db", str(backup))
    assert proc.returncode == 0 and "6" in proc.stdout


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("copy (select 1) to '{out}'", "COPY statement"),
        ("export database '{out}'", "EXPORT statement"),
        ("select * from read_text('{secret}')", "file system operations are disabled"),
        ("select * from read_csv('{secret}')", "file system operations are disabled"),
        ("select 1; select 2", "exactly one SQL statement"),
        ("set enable_external_access = true", "SET statement"),
        ("create temp table t as select 1", "CREATE statement"),
        ("attach '{out}' as other", "ATTACH statement"),
    ],
)
def test_sql_reads_the_database_and_nothing_else(
    sample_built: Built, tmp_path: Path, query: str, expected: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    out = tmp_path / "written"
    proc = _cli("sql", query.format(out=out, secret=secret), "--db", str(sample_built.db_path))
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert "do not read me" not in proc.stdout + proc.stderr


def _plan_copy(sample_built: Built, tmp_path: Path) -> Path:
    dest = tmp_path / "plan"
    shutil.copytree(sample_built.out_dir / "globals", dest / "globals", symlinks=False)
    return dest


def test_diff_counts_a_duplicated_job(sample_built: Built, tmp_path: Path) -> None:
    copy = _plan_copy(sample_built, tmp_path)
    master = copy / "globals" / "training_plan" / "master_training_plan.json"
    doc = json.loads(master.read_text())
    doc["jobs"].append(doc["jobs"][0])
    master.write_text(json.dumps(doc))
    proc = _cli("diff", str(sample_built.master_plan), str(master))
    assert proc.returncode == 1
    assert doc["jobs"][0]["job_id"] in proc.stdout
    assert "duplicated job_ids 1" in proc.stdout


def test_validate_checks_plan_id_and_mirror(sample_built: Built, tmp_path: Path) -> None:
    copy = _plan_copy(sample_built, tmp_path)
    assert _cli("validate", str(copy)).returncode == 0
    folder = copy / "globals" / "training_plan"
    master = folder / "master_training_plan.json"
    master.write_bytes(
        master.read_bytes().replace(b"ROUTE_BOTH", b"ROUTE_BOTH", 1).replace(b'"reason":"', b'"reason":"x', 1)
    )
    proc = _cli("validate", str(copy))
    assert proc.returncode == 1
    assert "does not match the plan's content" in proc.stdout
    assert "training_plan.json: differs from master_training_plan.json" in proc.stdout


def test_a_closed_pipe_is_not_an_error(sample_built: Built) -> None:
    proc = subprocess.Popen(
        [TRAINPLAN, "explain", "fwd_ret_5m", "AAPL", "--db", str(sample_built.db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    code = proc.wait(timeout=60)
    err = proc.stderr.read().decode()
    assert code == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_paths_are_not_wrapped_when_piped(sample_built: Built, tmp_path: Path) -> None:
    out = tmp_path / ("a-rather-long-folder-name-" * 4) / "out"
    proc = _cli("export", "--out", str(out), "--db", str(sample_built.db_path), env={"COLUMNS": "60"})
    assert proc.returncode == 0, proc.stderr
    master = out / "globals" / "training_plan" / "master_training_plan.json"
    assert f"plan: {master}" in proc.stdout.splitlines()


def test_a_second_writer_is_refused_naming_the_holder(sample_built: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    lock = out / "globals" / ".lock"
    lock.parent.mkdir(parents=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(json.dumps({"pid": 4242, "host": "h", "command": "trainplan refresh --out elsewhere"}))
        handle.flush()
        started = time.monotonic()
        proc = _cli("export", "--out", str(out), "--db", str(sample_built.db_path), "--wait", "0.5")
        waited = time.monotonic() - started
    assert proc.returncode == 2
    assert "pid 4242" in proc.stderr and "trainplan refresh --out elsewhere" in proc.stderr
    assert waited >= 0.5  # it waited as asked before giving up (a lower bound, not a timing assertion)
    assert not (out / "globals" / "training_plan").exists()
    proc = _cli("export", "--out", str(out), "--db", str(sample_built.db_path))
    assert proc.returncode == 0, proc.stderr  # the lock went with its holder


KILL_IN = """
import os, signal, sys
from pathlib import Path
import trainplan.export.refresh as refresh_module
from trainplan.config.settings import make_settings
where = sys.argv[4]
real_replace, real_publish = refresh_module.os.replace, refresh_module.publish
class _Os:
    def __getattr__(self, name):
        return getattr(os, name)
    @staticmethod
    def replace(src, dst):
        if where == "before-swap" and str(dst).endswith(".duckdb"):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)
def publish(*args, **kwargs):
    if where == "after-swap":
        os.kill(os.getpid(), signal.SIGKILL)
    return real_publish(*args, **kwargs)
refresh_module.os = _Os()
refresh_module.publish = publish
settings = make_settings(run_dir=Path(sys.argv[1]), out_dir=Path(sys.argv[2]), db_path=Path(sys.argv[3]))
refresh_module.refresh(settings)
"""


def _kill_refresh(run: Path, out: Path, db: Path, where: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILL_IN, str(run), str(out), str(db), where], check=False)
    assert proc.returncode == -signal.SIGKILL


def test_a_refresh_killed_between_database_and_plan_is_repaired(sample_built: Built, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(SAMPLE_RUN, run)
    out, db = tmp_path / "out", tmp_path / "db.duckdb"
    shutil.copyfile(sample_built.db_path, db)
    assert _cli("export", "--out", str(out), "--db", str(db)).returncode == 0
    master = out / "globals" / "training_plan" / "master_training_plan.json"
    before = json.loads(master.read_text())["metadata"]["plan_id"]
    # a change to the inputs that changes the plan: drop one target
    shutil.rmtree(run / "targets" / "fwd_ret_5m")

    _kill_refresh(run, out, db, "before-swap")  # the old database and the old plan are still a pair
    assert json.loads(master.read_text())["metadata"]["plan_id"] == before
    proc = _cli("validate", str(out))
    assert proc.returncode == 0, proc.stdout

    _kill_refresh(run, out, db, "after-swap")  # new database, old plan: the journal says so
    assert json.loads(master.read_text())["metadata"]["plan_id"] == before
    assert db.with_name(db.name + ".refresh-journal.json").is_file()
    proc = _cli("export", "--out", str(out), "--db", str(db))  # the next writer repairs first
    assert proc.returncode == 0, proc.stderr
    assert "an interrupted refresh was completed" in proc.stdout
    after = json.loads(master.read_text())
    assert after["metadata"]["plan_id"] != before
    assert not any(j["target"] == "fwd_ret_5m" for j in after["jobs"])
    assert not db.with_name(db.name + ".refresh-journal.json").exists()
    assert not building_path(db).exists()


def test_the_dbt_child_dies_with_its_parent(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [
            TRAINPLAN,
            "refresh",
            "--run-dir",
            str(SAMPLE_RUN),
            "--out",
            str(tmp_path / "out"),
            "--db",
            str(tmp_path / "d.duckdb"),
        ],
        env={**os.environ, "TRAINPLAN_STATE_DIR": str(state)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    marker = str(state)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _dbt_running(marker):
        time.sleep(0.2)
    assert _dbt_running(marker), "dbt never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _dbt_running(marker):
        time.sleep(0.2)
    assert not _dbt_running(marker)


def _dbt_running(marker: str) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "dbt" in cmdline and "build" in cmdline and marker in cmdline:
            return True
    return False
