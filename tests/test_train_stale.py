"""A stale plan is refused (naming what changed) unless --allow-stale; the plan a run trains is pinned at start."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from trainplan.config.project import default_policy, project_dir
from trainplan.config.settings import make_settings
from trainplan.plan.model import Plan
from trainplan.train import ledger as L
from trainplan.train.stale import check_freshness
from trainplan.warehouse import file_hashes

from tests.conftest import SAMPLE_RUN, Built, build
from tests.train_support import (
    TRAINER,
    cli,
    gated,
    kill,
    plan_document,
    publish_plan,
    records,
    runnable_ids,
    start_train,
    started,
    train,
    wait_until,
    write_plan,
)

METRICS = "targets/fwd_ret_5m/reproducibility/CROSS_SECTIONAL"
POLICY = "edited_policy.yaml"


@pytest.fixture(scope="module")
def own_build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sample run and the shipped policy copied (so the tests may change them) and refreshed."""
    run = tmp_path_factory.mktemp("train_inputs") / "run"
    shutil.copytree(SAMPLE_RUN, run)
    policy = run.parent / POLICY
    shutil.copy(default_policy(project_dir()), policy)
    return build(run, run.parent / "out", policy)


@pytest.fixture()
def a_metrics_file(own_build: Built) -> Iterator[Path]:
    """A raw input file of the build; restored after the test."""
    path = next((own_build.run_dir / METRICS).glob("cohort=*/metrics.json"))
    before = path.read_bytes()
    yield path
    path.write_bytes(before)


def _train(
    built: Built, ledger: Path, *extra: str, db: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """`trainplan train` on the built plan, against its database (or `db`, a changed copy of it)."""
    database = str(db or built.db_path)
    return cli("train", "--plan", str(built.out_dir), "--db", database, "--ledger", str(ledger), *extra, env=env)


def test_a_current_plan_is_trained(own_build: Built, tmp_path: Path) -> None:
    code, out = _train(own_build, tmp_path / "ledger", "--trainer", TRAINER, "--target", "fwd_ret_5m")
    assert code == 0, out
    assert "warning" not in out and "--allow-stale" not in out
    (session,) = records(tmp_path / "ledger", kind="session")
    assert session["allow_stale"] is False and session["stale"] is None


def test_a_changed_input_file_refuses_naming_the_fingerprint(
    own_build: Built, a_metrics_file: Path, tmp_path: Path
) -> None:
    a_metrics_file.write_bytes(a_metrics_file.read_bytes() + b" ")
    code, out = _train(own_build, tmp_path / "ledger", "--trainer", TRAINER)
    assert code == 2
    assert "inputs_fingerprint changed" in out and "plan_id changed" not in out
    assert "1 changed" in out and a_metrics_file.relative_to(own_build.run_dir).as_posix() in out
    assert "--allow-stale" in out
    assert not (tmp_path / "ledger").exists()

    code, out = _train(own_build, tmp_path / "ledger", "--trainer", TRAINER, "--target", "fwd_ret_5m", "--allow-stale")
    assert code == 0, out
    (session,) = records(tmp_path / "ledger", kind="session")
    assert session["allow_stale"] is True and "inputs_fingerprint changed" in session["stale"]


def test_an_added_input_file_refuses(own_build: Built, tmp_path: Path) -> None:
    cohort = next((own_build.run_dir / METRICS).glob("cohort=*"))
    added = cohort.with_name(cohort.name + "_copy")
    shutil.copytree(cohort, added)
    try:
        code, out = _train(own_build, tmp_path / "ledger", "--trainer", TRAINER)
    finally:
        shutil.rmtree(added)
    assert code == 2 and "inputs_fingerprint changed" in out and "added" in out and added.name in out


def test_a_run_file_that_cannot_be_read_now_leaves_the_plan_unchecked_naming_it(
    own_build: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stale check hashes the files as they are now with the build's SQL function; a file it cannot read
    (simulated: root reads any file) is named, and nothing is claimed about the plan: train then refuses it."""

    def unreadable(paths: pa.Array) -> pa.Array:
        raise OSError(f"{paths[0]}: cannot be read for its SHA-256 (Permission denied)")

    monkeypatch.setattr(file_hashes, "file_sha256", unreadable)
    plan = Plan.from_json(own_build.master_plan.read_text(encoding="utf-8"), own_build.master_plan)
    fresh = check_freshness(plan, own_build.out_dir, own_build.db_path)
    assert not fresh.checked and not fresh.fresh and fresh.changed == ()
    (problem,) = fresh.problems
    assert problem.startswith("inputs_fingerprint not checked: cannot rerun the compiled plan_input_files SQL")
    assert problem.endswith(": cannot be read for its SHA-256 (Permission denied)") and "\n" not in problem
    assert "Python exception" not in problem  # DuckDB's words before the function's own message are cut


def test_the_stale_check_hashes_each_run_file_once(own_build: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    """plan_input_files is built once from the files as they are now; the fingerprint and the list of changes both
    read it (a changed file makes the check list the changes too)."""
    hashed: list[str] = []
    real = file_hashes.file_sha256

    def counted(paths: pa.Array) -> pa.Array:
        hashed.extend(paths.to_pylist())
        return real(paths)

    monkeypatch.setattr(file_hashes, "file_sha256", counted)
    with duckdb.connect(str(own_build.db_path), read_only=True) as con:
        (n_listed,) = con.execute(
            "select count(*) from plan_input_files where input_kind = 'run' and path like 'targets/%'"
        ).fetchone()
    extra = own_build.run_dir / METRICS / "added.json"
    extra.write_text("{}\n", encoding="utf-8")
    try:
        plan = Plan.from_json(own_build.master_plan.read_text(encoding="utf-8"), own_build.master_plan)
        fresh = check_freshness(plan, own_build.out_dir, own_build.db_path)
    finally:
        extra.unlink()
    assert fresh.changed == ("inputs_fingerprint",) and "1 added" in fresh.problems[0]
    assert len(hashed) == len(set(hashed)) == n_listed + 1


def test_a_policy_edited_after_the_build_is_named_and_never_lends_the_plan_its_hash(
    own_build: Built, tmp_path: Path
) -> None:
    policy = own_build.run_dir.parent / POLICY
    before = policy.read_bytes()
    built_hash = hashlib.sha256(before).hexdigest()[:8]
    master = json.loads(own_build.master_plan.read_text())["metadata"]
    assert master["config_hash"] == built_hash
    policy.write_bytes(before + b"# edited after the build\n")
    try:
        code, out = _train(own_build, tmp_path / "ledger", "--trainer", TRAINER)
        assert code == 2
        assert "inputs_fingerprint changed" in out and "plan_id changed" not in out
        assert "1 changed" in out and POLICY in out
        # exported again from the same database: the hash of the bytes the build decided with, the same plan
        code, out = cli("export", "--out", str(tmp_path / "again"), "--db", str(own_build.db_path))
        assert code == 0, out
        again = json.loads((tmp_path / "again" / own_build.master_plan.relative_to(own_build.out_dir)).read_text())
        assert again["metadata"]["config_hash"] == built_hash
        assert again["metadata"]["plan_id"] == master["plan_id"]
    finally:
        policy.write_bytes(before)


def test_a_policy_removed_after_the_build_refuses_naming_it(own_build: Built, tmp_path: Path) -> None:
    """Even while env TRAINPLAN_POLICY still names it: only a refresh needs the policy to exist."""
    policy = own_build.run_dir.parent / POLICY
    before = policy.read_bytes()
    policy.unlink()
    try:
        code, out = _train(own_build, tmp_path / "l", "--trainer", TRAINER, env={"TRAINPLAN_POLICY": str(policy)})
    finally:
        policy.write_bytes(before)
    assert code == 2 and "Traceback" not in out
    assert "inputs_fingerprint changed" in out and f"1 removed ({POLICY})" in out


def _database_copy(built: Built, folder: Path) -> Path:
    """The plan's database copied, with its dbt manifest (the stale check reads it beside the database)."""
    db = folder / built.db_path.name
    shutil.copy(built.db_path, db)
    manifest = make_settings(db_path=built.db_path).dbt_work_dir / "target" / "manifest.json"
    copy = make_settings(db_path=db).dbt_work_dir / "target" / "manifest.json"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(manifest, copy)
    return db


def test_a_database_that_records_no_policy_says_a_refresh_records_it(own_build: Built, tmp_path: Path) -> None:
    db = _database_copy(own_build, tmp_path)
    with duckdb.connect(str(db)) as con:  # as a build before the policy was an input file
        con.execute("delete from plan_input_files where input_kind = 'policy'")
    code, out = _train(own_build, tmp_path / "l", "--trainer", TRAINER, db=db)
    assert code == 2
    assert "plan_id changed" in out and "records no policy file" in out and "a refresh records it" in out


def test_a_changed_database_refuses_naming_plan_id(own_build: Built, tmp_path: Path) -> None:
    db = _database_copy(own_build, tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute("update training_jobs set estimated_samples = 0 where symbol = 'AAPL'")  # the plan's table
    code, out = _train(own_build, tmp_path / "l", "--trainer", TRAINER, db=db)
    assert code == 2
    assert "plan_id changed" in out and "inputs_fingerprint" not in out
    assert "the database changed since the plan was written" in out


def test_no_database_is_said_clearly(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    code, out = cli("train", "--plan", str(root), "--ledger", str(tmp_path / "l"), "--trainer", TRAINER)
    assert code == 2 and "no database is known for the plan" in out and "--allow-stale" in out
    code, out = cli("train", "--plan", str(root), "--db", str(tmp_path / "nope.duckdb"), "--trainer", TRAINER)
    assert code == 2 and "does not exist" in out
    code, out = cli(
        "train", "--plan", str(root), "--ledger", str(tmp_path / "l"), "--trainer", TRAINER, "--allow-stale"
    )
    assert code == 0, out
    (session,) = records(tmp_path / "l", kind="session")
    assert session["allow_stale"] is True and "no database" in session["stale"]


def test_a_plan_published_during_the_run_changes_nothing_for_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first = plan_document(targets=("old1", "old2"), symbols=("A", "B"))
    folder = publish_plan(root, first)
    ledger, log, gate, env = gated(tmp_path, stop_after=1)
    proc = start_train(root, ledger, "--trainer", TRAINER, "--workers", "1", env=env)
    try:
        wait_until(lambda: len(started(log)) == 2, "a job done and one in flight")
        second = plan_document(targets=("new1",), symbols=("Z",))
        new_folder = publish_plan(root, second)
        assert new_folder != folder and not folder.exists()  # the publish removed the run's folder
        gate.touch()
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode == 0, out
    assert {r["job_id"] for r in records(ledger) if r["status"] == "succeeded"} == runnable_ids(first)
    (session,) = records(ledger, kind="session")
    assert session["plan_id"] == first["metadata"]["plan_id"] and session["plan_dir"] == str(folder)
    assert {r["plan_id"] for r in records(ledger)} == {first["metadata"]["plan_id"]}
    # the default ledger of a published plan is beside it, outside .plan-*
    assert L.default_ledger_dir(root / "globals") == root / "globals" / "training_runs"
    code, out = train(root, tmp_path / "l2", "--trainer", TRAINER)
    assert code == 0
    assert {r["job_id"] for r in records(tmp_path / "l2") if r["status"] == "succeeded"} == runnable_ids(second)
    assert json.loads((new_folder / "training_plan" / "master_training_plan.json").read_text()) == second
