"""The inspection commands: summary, explain, diff, validate, sql and export, with the exit codes scripts use."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from trainplan.cli.app import app
from typer.testing import CliRunner

from tests.conftest import Built

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


def _plan_copy(sample_built: Built, tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(sample_built.out_dir / "globals" / "training_plan", dest / "training_plan")
    shutil.copytree(sample_built.out_dir / "globals" / "routing_plan", dest / "routing_plan")
    return dest


def _edit(plan_dir: Path, edit: Callable[[dict], None]) -> None:
    path = plan_dir / "training_plan" / "master_training_plan.json"
    plan = json.loads(path.read_text())
    edit(plan)
    path.write_text(json.dumps(plan))


def test_summary_of_a_plan(sample_built: Built) -> None:
    code, out = _run("summary", str(sample_built.out_dir))
    plan = json.loads(sample_built.master_plan.read_text())
    assert code == 0
    assert plan["metadata"]["plan_id"] in out
    for route in plan["summary"]["by_route"]:
        assert route in out
    assert f"jobs: {len(plan['jobs'])}" in out


def test_summary_of_the_database(sample_built: Built) -> None:
    code, out = _run("summary", "--db", str(sample_built.db_path))
    assert code == 0
    assert "ROUTE_BLOCKED" in out


def test_summary_missing_plan_is_an_error(tmp_path: Path) -> None:
    code, out = _run("summary", str(tmp_path))
    assert code == 2
    assert "master_training_plan.json" in out


def test_explain_a_pair(sample_built: Built) -> None:
    code, out = _run("explain", "y_will_peak_60m_0.8", "PG", "--db", str(sample_built.db_path))
    assert code == 0
    for text in ("cross-sectional lane", "symbol lane (PG)", "STRONG: score", "leakage", "stability", "ROUTE_SYMBOL_SPECIFIC",
                 "sym_y_will_peak_60m_0.8_PG", "decided: rule"):  # fmt: skip
        assert text in out


def test_explain_a_target(sample_built: Built) -> None:
    code, out = _run("explain", "fwd_ret_5m", "--db", str(sample_built.db_path))
    assert code == 0
    assert "cs_fwd_ret_5m" in out and "symbol routes:" in out


@pytest.mark.parametrize("args", [("nope",), ("fwd_ret_5m", "NOPE")])
def test_explain_unknown_exits_1(sample_built: Built, args: tuple[str, ...]) -> None:
    code, out = _run("explain", *args, "--db", str(sample_built.db_path))
    assert code == 1
    assert "unknown" in out


def test_diff_equal_plans_exit_0(sample_built: Built, tmp_path: Path) -> None:
    copy = _plan_copy(sample_built, tmp_path, "copy")
    code, out = _run("diff", str(sample_built.out_dir), str(copy / "training_plan"))
    assert code == 0
    assert "plans are equal" in out


def test_diff_reports_changes_exit_1(sample_built: Built, tmp_path: Path) -> None:
    b = _plan_copy(sample_built, tmp_path, "b")

    def edit(plan: dict) -> None:
        removed = plan["jobs"].pop()
        plan["jobs"][0]["route"] = "ROUTE_SYMBOL_SPECIFIC"
        plan["jobs"][0]["reason"] = "the new reason"
        plan["jobs"][1]["priority"] = 0
        plan["jobs"].append({**removed, "job_id": "sym_added_X"})

    _edit(b, edit)
    original = json.loads(sample_built.master_plan.read_text())["jobs"]
    code, out = _run("diff", str(sample_built.out_dir), str(b))
    assert code == 1
    assert "sym_added_X" in out and original[-1]["job_id"] in out
    assert "route changes (1)" in out and original[0]["job_id"] in out
    assert "the new reason" in out and original[0]["reason"][:40] in out
    assert "added 1, removed 1, changed 2" in out


def test_validate_good_plan_exit_0(sample_built: Built) -> None:
    code, out = _run("validate", str(sample_built.out_dir))
    assert code == 0, out
    assert "plan is valid" in out


def test_validate_lists_every_problem_exit_1(sample_built: Built, tmp_path: Path) -> None:
    bad = _plan_copy(sample_built, tmp_path, "bad")

    def edit(plan: dict) -> None:
        sym = [j for j in plan["jobs"] if j["training_type"] == "symbol_specific"]
        plan["jobs"].append(dict(sym[0]))  # duplicate job id
        sym[1]["model_families"] = []  # runnable job without families
        sym[2]["route"] = "ROUTE_CROSS_SECTIONAL"  # inconsistent with its type and the routing plan
        sym[3]["route"] = "ROUTE_TELEPORT"  # not in the schema

    _edit(bad, edit)
    code, out = _run("validate", str(bad))
    assert code == 1
    for text in ("appears more than once", "has no model families", "cannot have a symbol_specific job",
                 "ROUTE_TELEPORT", "routing_plan.json says", "metadata.total_jobs"):  # fmt: skip
        assert text in out, text


def test_sql_prints_a_table(sample_built: Built) -> None:
    code, out = _run(
        "sql",
        "select route, count(*) as n from training_jobs group by route order by route",
        "--db",
        str(sample_built.db_path),
    )
    assert code == 0
    assert "ROUTE_BOTH" in out and "rows" in out


@pytest.mark.parametrize(
    "statement", ["create table x (i integer)", "delete from routing_candidates", "drop view training_jobs"]
)
def test_sql_refuses_writes(sample_built: Built, statement: str) -> None:
    code, out = _run("sql", statement, "--db", str(sample_built.db_path))
    assert code == 2
    assert "read-only" in out


def test_sql_bad_query_exit_2(sample_built: Built) -> None:
    code, out = _run("sql", "select * from no_such_relation", "--db", str(sample_built.db_path))
    assert code == 2
    assert "no_such_relation" in out


def test_export_command(sample_built: Built, tmp_path: Path) -> None:
    code, out = _run("export", "--out", str(tmp_path), "--db", str(sample_built.db_path))
    assert code == 0, out
    plan = json.loads((tmp_path / "globals/training_plan/master_training_plan.json").read_text())
    assert plan["metadata"]["plan_id"] in out
    assert plan["jobs"] == json.loads(sample_built.master_plan.read_text())["jobs"]


def test_explain_reads_the_stored_rule_order(sample_built: Built) -> None:
    """A STRONG lane: the STRONG rule holds and the later rules are never reached (as dbt's lane_rule says)."""
    code, out = _run("explain", "fwd_ret_5m", "AAPL", "--db", str(sample_built.db_path))
    assert code == 0
    strong = next(line for line in out.splitlines() if "STRONG: score" in line)
    weak = next(line for line in out.splitlines() if "WEAK_BUT_OK: score" in line)
    assert "holds" in strong and "not reached" in weak
