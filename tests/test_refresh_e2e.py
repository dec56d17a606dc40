"""End to end: the CLI refreshes the bundled sample and the plan holds the decisions the sample was built for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_RUN, Built

TRAINPLAN = str(Path(sys.executable).parent / "trainplan")


def _jobs(plan_path: Path) -> dict[str, dict]:
    plan = json.loads(plan_path.read_text())
    return {job["job_id"]: job for job in plan["jobs"]}


def test_cli_refresh_writes_plan_and_prints_routes(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            TRAINPLAN,
            "refresh",
            "--run-dir",
            str(SAMPLE_RUN),
            "--out",
            str(tmp_path),
            "--db",
            str(tmp_path / "t.duckdb"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for route in ("ROUTE_CROSS_SECTIONAL", "ROUTE_SYMBOL_SPECIFIC", "ROUTE_BOTH", "ROUTE_BLOCKED"):
        assert route in proc.stdout
    plan = json.loads((tmp_path / "globals/training_plan/master_training_plan.json").read_text())
    assert list(plan) == ["metadata", "jobs", "summary"]
    assert plan["metadata"]["total_jobs"] == len(plan["jobs"]) > 0
    mirror = json.loads((tmp_path / "globals/training_plan/training_plan.json").read_text())
    assert mirror == plan


def test_cli_rejects_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [TRAINPLAN, "refresh", "--run-dir", str(tmp_path), "--db", str(tmp_path / "t.duckdb")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
        check=False,
    )
    assert proc.returncode == 2
    assert "has no targets/ folder" in proc.stderr
    assert not (tmp_path / "globals").exists()


@pytest.mark.parametrize(
    ("job_id", "route", "priority"),
    [
        ("cs_fwd_ret_5m", "ROUTE_CROSS_SECTIONAL", 2),  # CS score above the strong threshold
        ("sym_fwd_ret_5m_AAPL", "ROUTE_BOTH", 3),  # both lanes strong
        ("sym_y_will_peak_60m_0.8_PG", "ROUTE_SYMBOL_SPECIFIC", 2),  # CS below min, symbol above
    ],
)
def test_expected_jobs(sample_built: Built, job_id: str, route: str, priority: int) -> None:
    job = _jobs(sample_built.master_plan)[job_id]
    assert job["route"] == route
    assert job["priority"] == priority
    assert job["model_families"] == ["lightgbm", "xgboost"]


@pytest.mark.parametrize(
    "job_id",
    [
        "cs_y_will_peak_60m_0.8",  # CS score below min_score
        "cs_ret_same_day_close",  # CS leakage_flag LEAKAGE_DETECTED and block_on_leakage
        "cs_fwd_ret_4h",  # CS sample size below the minimum
        "sym_y_will_peak_60m_0.8_MSFT",  # both lanes disallowed: blocked
        "sym_y_will_peak_60m_0.8_JNJ",  # symbol leakage blocked, CS disallowed
        "sym_fwd_ret_5m_AMZN",  # symbol below min: covered by the CS job
    ],
)
def test_jobs_that_must_not_exist(sample_built: Built, job_id: str) -> None:
    assert job_id not in _jobs(sample_built.master_plan)


def test_decisions_for_known_pairs(sample_con) -> None:
    rows = dict(
        (f"{t}/{s}", r)
        for t, s, r in sample_con.execute(
            "select target, coalesce(symbol, '-'), route from routing_decisions"
        ).fetchall()
    )
    assert rows["y_will_peak_60m_0.8/MSFT"] == "ROUTE_BLOCKED"
    assert rows["fwd_ret_5m/AMZN"] == "ROUTE_CROSS_SECTIONAL"
    assert rows["ret_same_day_close/-"] == "ROUTE_BLOCKED"


def test_plan_order_and_summary(sample_built: Built) -> None:
    plan = json.loads(sample_built.master_plan.read_text())
    priorities = [job["priority"] for job in plan["jobs"]]
    assert priorities == sorted(priorities, reverse=True)
    summary = plan["summary"]
    assert sum(summary["by_route"].values()) == len(plan["jobs"])
    assert summary["total_cs_jobs"] == sum(1 for j in plan["jobs"] if j["training_type"] == "cross_sectional")
    assert all(isinstance(k, str) for k in summary["by_priority"])


def test_one_candidate_per_pair(sample_con) -> None:
    dupes = sample_con.execute(
        "select target, symbol, count(*) from routing_candidates group by all having count(*) > 1"
    ).fetchall()
    assert dupes == []
    n_targets, n_rows = sample_con.execute("select count(distinct target), count(*) from routing_candidates").fetchone()
    assert (n_targets, n_rows) == (6, 6 * 13)
