"""Bad input is reported, never silently dropped: examples/broken_run and a broken routing_candidates.parquet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from trainplan.config.settings import SettingsError, make_settings
from trainplan.export.refresh import refresh
from trainplan.samples.broken import BROKEN_CANDIDATE_ROWS, BROKEN_CASES, BROKEN_OPTIONS, generate_broken_run
from trainplan.samples.sample import SampleOptions, generate_sample
from trainplan.warehouse.dbt_runner import building_path

from tests.conftest import REPO, Built, build
from tests.foxml_files import built_candidates, intended_candidates

BROKEN_RUN = REPO / "examples" / "broken_run"
POLICY = yaml.safe_load((REPO / "CONFIG/training_config/routing_config.yaml").read_text())
TRAINPLAN = str(Path(sys.executable).parent / "trainplan")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def broken_built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(BROKEN_RUN, tmp_path_factory.mktemp("broken_out"))


@pytest.fixture(scope="module")
def rejects(broken_built: Built) -> list[tuple[str, str, str]]:
    with broken_built.connect() as con:
        return con.execute("select source_file, problem, expected from rejected_inputs").fetchall()


def test_bundled_broken_run_is_what_the_generator_writes(tmp_path: Path) -> None:
    assert _tree(generate_broken_run(tmp_path / "b", POLICY)) == _tree(BROKEN_RUN)


@pytest.mark.parametrize(("path", "problem"), BROKEN_CASES, ids=[p for p, _ in BROKEN_CASES])
def test_each_broken_file_is_rejected_with_its_reason(rejects, path: str, problem: str) -> None:
    target = str(BROKEN_RUN / path) + ("/" if path.endswith("/") else "")
    mine = [(p, e) for f, p, e in rejects if f == target]
    assert mine, f"no reject row for {path}"
    assert any(problem in p and e for p, e in mine), mine


def test_nothing_else_is_rejected(rejects) -> None:
    assert len(rejects) == len(BROKEN_CASES)


def test_rejected_files_do_not_reach_candidates(broken_built: Built, tmp_path: Path) -> None:
    # the same run without the broken files: every broken cohort is newer, so reading one would change a value
    clean = generate_sample(SampleOptions(out=tmp_path / "clean", **BROKEN_OPTIONS), POLICY)
    expected = intended_candidates(clean)
    with broken_built.connect() as con:
        built = built_candidates(con)
        sources = {r[0] for r in con.execute("select source_file from routing_candidates").fetchall()}
    assert set(built) == set(expected)
    for key, cohort in expected.items():
        assert built[key] == (cohort.score, cohort.sample_size, cohort.cohort_id), key
    assert not any("broken" in Path(s).parent.name for s in sources)


def test_enum_case_is_normalised_not_rejected(broken_built: Built) -> None:
    # fwd_ret_60m/AAPL's cohort says task_type "regression" and leakage_flag "ok": read as REGRESSION and OK -> SAFE.
    # The scope's confirmed_quarantine.json is broken, so the scope is held to UNKNOWN (unreadable evidence).
    with broken_built.connect() as con:
        task_type, status, reason = con.execute(
            "select task_type, leakage_status, leakage_reason from routing_candidates"
            " where target = 'fwd_ret_60m' and symbol = 'AAPL'"
        ).fetchone()
    assert task_type == "REGRESSION"
    assert "cohort OK -> SAFE" in reason
    assert (status, reason.split(";")[0]) == (
        "UNKNOWN",
        "held: leakage evidence unreadable in "
        "targets/fwd_ret_60m/reproducibility/SYMBOL_SPECIFIC/symbol=AAPL/feature_quarantine/confirmed_quarantine.json",
    )


def test_rejected_rankings_row_is_not_leakage_evidence_and_holds_its_target(broken_built: Built) -> None:
    # the row's flag 'SOMETHING_ELSE' is not read as evidence; the row could have carried a block, so the CS lane of
    # its target is held to UNKNOWN leakage and gets no job (docs/decision-semantics.md, "Unreadable evidence")
    with broken_built.connect() as con:
        status, reason = con.execute(
            "select leakage_status, leakage_reason from routing_candidates where target = 'fwd_ret_60m' and symbol is null"
        ).fetchone()
        rule = con.execute(
            "select rule from routing_decisions where target = 'fwd_ret_60m' and symbol is null"
        ).fetchone()[0]
        cs_jobs = con.execute("select count(*) from training_jobs where job_id = 'cs_fwd_ret_60m'").fetchone()[0]
    assert "rankings_csv" not in reason and "cohort OK" in reason
    assert status == "UNKNOWN"
    assert reason.startswith("held: leakage evidence unreadable in globals/target_predictability_rankings.csv row ")
    assert (rule, cs_jobs) == ("cs_leakage_unreadable", 0)


def test_strict_fails_listing_rejects_and_keeps_the_previous_plan(broken_built: Built) -> None:
    plan_before = broken_built.master_plan.read_bytes()
    db_before = broken_built.db_path.stat().st_mtime_ns
    proc = subprocess.run(
        [
            TRAINPLAN,
            "refresh",
            "--strict",
            "--run-dir",
            str(BROKEN_RUN),
            "--out",
            str(broken_built.out_dir),
            "--db",
            str(broken_built.db_path),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{len(BROKEN_CASES)} rejected input(s) and --strict is set" in proc.stderr
    assert "cohort=sy_broken_nan/metrics.json: key auc is NaN" in proc.stderr
    assert broken_built.master_plan.read_bytes() == plan_before
    assert broken_built.db_path.stat().st_mtime_ns == db_before
    assert not building_path(broken_built.db_path).exists()


def test_non_strict_refresh_prints_the_reject_count(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            TRAINPLAN,
            "refresh",
            "--candidates",
            str(BROKEN_RUN / "globals/routing/routing_candidates.parquet"),
            "--out",
            str(tmp_path),
            "--db",
            str(tmp_path / "c.duckdb"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    n_bad = sum(1 for *_, problem in BROKEN_CANDIDATE_ROWS if problem)
    assert f"rejected inputs: {n_bad}" in proc.stdout
    for *_, problem in BROKEN_CANDIDATE_ROWS:
        if problem:
            assert problem in proc.stdout
    plan = json.loads((tmp_path / "globals/training_plan/master_training_plan.json").read_text())
    # the plan is built from the accepted rows only
    assert {job["target"] for job in plan["jobs"]} <= {"t_ok"}
    import duckdb

    with duckdb.connect(str(tmp_path / "c.duckdb"), read_only=True) as con:
        rows = con.execute("select target, symbol, stability, leakage_status from routing_candidates").fetchall()
    assert rows == [("t_ok", None, "STABLE", "SAFE")]


def test_candidates_and_run_dir_are_exclusive(tmp_path: Path) -> None:
    settings = make_settings(
        run_dir=BROKEN_RUN, candidates_file=tmp_path / "x.parquet", out_dir=tmp_path, db_path=tmp_path / "d.duckdb"
    )
    with pytest.raises(SettingsError, match="not both"):
        refresh(settings)


def test_missing_candidates_file_is_a_clear_error(tmp_path: Path) -> None:
    settings = make_settings(candidates_file=tmp_path / "none.parquet", out_dir=tmp_path, db_path=tmp_path / "d.db")
    with pytest.raises(SettingsError, match=r"none\.parquet: no such file; expected a routing_candidates\.parquet"):
        refresh(settings)


@pytest.mark.parametrize("column", ["file_row_number", "trainplan_source_file", "File_Row_Number"])
def test_a_candidates_column_named_like_the_readers_own_is_a_clear_error(tmp_path: Path, column: str) -> None:
    path = tmp_path / "routing_candidates.parquet"
    pq.write_table(pa.table({"target": ["t"], column: [1]}), path)
    settings = make_settings(candidates_file=path, out_dir=tmp_path, db_path=tmp_path / "d.db")
    with pytest.raises(SettingsError, match=rf"routing_candidates\.parquet: column '{column}' is a name trainplan's"):
        refresh(settings)
    assert not settings.db_path.exists()


def test_a_candidates_file_with_a_broken_footer_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "routing_candidates.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    settings = make_settings(candidates_file=path, out_dir=tmp_path, db_path=tmp_path / "d.db")
    with pytest.raises(SettingsError, match=r"routing_candidates\.parquet: not a readable parquet file \("):
        refresh(settings)


def test_a_candidates_file_that_is_not_parquet_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "routing_candidates.parquet"
    bad.write_text("[]", encoding="utf-8")
    settings = make_settings(candidates_file=bad, out_dir=tmp_path, db_path=tmp_path / "d.db")
    with pytest.raises(SettingsError, match=r"routing_candidates\.parquet: not a parquet file"):
        refresh(settings)
