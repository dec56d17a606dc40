"""Route hysteresis end to end: three successive `trainplan refresh` runs on candidates files, each reading the plan
the one before published (docs/decision-semantics.md, "Hysteresis").

One target (binary classification: CS thresholds 0.52 / 0.58, symbol 0.54 / 0.60, experimental 0.52), a CS lane
well above its strong threshold, and a band of 0.02 for both lanes. The symbol lane decides between ROUTE_BOTH
(symbol WEAK_BUT_OK or STRONG) and ROUTE_CROSS_SECTIONAL (symbol EXPERIMENTAL or DISALLOWED):

| symbol | run 1 | run 2 | run 3 |
|---|---|---|---|
| NOISY | 0.545 BOTH | 0.535: bare EXPERIMENTAL, kept WEAK_BUT_OK (≥ 0.54 - 0.02): BOTH, flip prevented | 0.55 BOTH |
| UP | 0.53 EXPERIMENTAL, CS | 0.55: bare WEAK_BUT_OK, needs 0.56: CS, flip prevented | 0.57 BOTH (a real change) |
| REAL | 0.545 BOTH | 0.545 BOTH | 0.49 < 0.52: DISALLOWED, CS (a real change) |
| LEAK | 0.56 BOTH | leakage BLOCKED (score 0.56): DISALLOWED at once, CS | same |
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from trainplan.config.project import default_policy, project_dir
from trainplan.plan.previous import read_previous_lanes, sidecar_lanes
from trainplan.report import header
from trainplan.samples.candidates_format import write_reference_candidates

TRAINPLAN = str(Path(sys.executable).parent / "trainplan")
TARGET = "fwd_ret_up_5m"
RUNS = {
    1: {"NOISY": 0.545, "UP": 0.53, "REAL": 0.545, "LEAK": 0.56},
    2: {"NOISY": 0.535, "UP": 0.55, "REAL": 0.545, "LEAK": 0.56},
    3: {"NOISY": 0.55, "UP": 0.57, "REAL": 0.49, "LEAK": 0.56},
}


def _candidates(folder: Path, run: int) -> Path:
    rows = [
        {"target": TARGET, "symbol": None, "score": 0.65, "sample_size": 20000, "leakage_status": "SAFE"},
        *(
            {
                "target": TARGET,
                "symbol": symbol,
                "mode": "SYMBOL_SPECIFIC",
                "score": score,
                "sample_size": 5000,
                "leakage_status": "BLOCKED" if symbol == "LEAK" and run > 1 else "SAFE",
            }
            for symbol, score in RUNS[run].items()
        ),
    ]
    for row in rows:
        row.update({"task_type": "BINARY_CLASSIFICATION", "metric_name": "roc_auc", "stability": "UNKNOWN"})
    return write_reference_candidates(rows, folder / f"run{run}", datetime(2026, 1, run, tzinfo=UTC))


def _policy(folder: Path, semantics: str = "strict") -> Path:
    doc = yaml.safe_load(default_policy(project_dir()).read_text())
    doc["routing"].update(
        {
            "semantics": semantics,
            "dump_plan_as": ["JSON"],
            "training_plan_files": [],
            "hysteresis": {"enabled": True, "band": {"cross_sectional": 0.02, "symbol": 0.02}},
        }
    )
    path = folder / f"policy_{semantics}.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRAINPLAN, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
        check=False,
    )


def _decisions(db: Path) -> dict[str | None, dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute("select * from routing_decisions where target = ?", [TARGET])
        names = [d[0] for d in cur.description]
        return {row[names.index("symbol")]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def _parsed_lanes(out: Path) -> list[tuple]:
    return [(x.target, x.symbol, x.state, x.route, x.runs_in_state) for x in read_previous_lanes(out)[0]]


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("hysteresis")
    out, db, policy = tmp / "out", tmp / "t.duckdb", _policy(tmp)
    master = out / "globals/training_plan/master_training_plan.json"
    runs: dict = {}
    for run in RUNS:
        proc = _cli("refresh", "--candidates", _candidates(tmp, run), "--out", out, "--db", db, "--policy", policy)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        kept = shutil.copy(master, tmp / f"plan{run}.json")
        explain = _cli("explain", TARGET, "NOISY", "--db", db) if run == 2 else None
        with duckdb.connect(str(db), read_only=True) as con:
            report = dict(header.header(con, {}, master, db).rows)
        runs[run] = {"stdout": proc.stdout, "decisions": _decisions(db), "plan": Path(kept), "explain": explain,
                     "lanes": (_parsed_lanes(out), sidecar_lanes(out)), "report": report}  # fmt: skip
    return runs


def test_first_run_has_no_previous_plan(three_runs: dict) -> None:
    first = three_runs[1]
    assert "no previous plan (first run)" in first["stdout"]
    assert {d["local_hysteresis_status"] for s, d in first["decisions"].items() if s} == {"first_run"}
    assert first["decisions"]["NOISY"]["route"] == "ROUTE_BOTH"
    assert first["decisions"]["UP"]["route"] == "ROUTE_CROSS_SECTIONAL"


def test_noise_is_held_and_a_hard_block_acts_at_once(three_runs: dict) -> None:
    second = three_runs[2]["decisions"]
    noisy, up, leak = second["NOISY"], second["UP"], second["LEAK"]
    assert (noisy["route"], noisy["route_without_hysteresis"]) == ("ROUTE_BOTH", "ROUTE_CROSS_SECTIONAL")
    assert noisy["held_by_hysteresis"] and noisy["flip_prevented"] and noisy["previous_route"] == "ROUTE_BOTH"
    assert noisy["local_state"] == "WEAK_BUT_OK" and noisy["local_state_without_hysteresis"] == "EXPERIMENTAL"
    assert noisy["local_hysteresis_needed_margin"] == pytest.approx(-0.02)
    assert (up["route"], up["route_without_hysteresis"]) == ("ROUTE_CROSS_SECTIONAL", "ROUTE_BOTH")
    assert up["local_hysteresis_needed_margin"] == pytest.approx(0.02)
    assert leak["local_state"] == "DISALLOWED" and leak["local_lane_rule"] == "leakage_blocked"
    assert not leak["held_by_hysteresis"] and leak["local_hysteresis_status"] == "hard_block"
    assert leak["route"] == "ROUTE_CROSS_SECTIONAL" and leak["previous_route"] == "ROUTE_BOTH"
    assert "route flips prevented 2" in three_runs[2]["stdout"]
    plan = json.loads(three_runs[2]["plan"].read_text())
    assert plan["summary"]["hysteresis"] == {
        "decisions_with_previous_route": 5,
        "lanes_held": 2,
        "flips_prevented": 2,
    }


def test_a_real_change_passes_in_one_run(three_runs: dict) -> None:
    third = three_runs[3]["decisions"]
    assert third["REAL"]["route"] == "ROUTE_CROSS_SECTIONAL" and third["REAL"]["previous_route"] == "ROUTE_BOTH"
    assert not third["REAL"]["held_by_hysteresis"]
    assert third["UP"]["route"] == "ROUTE_BOTH" and third["UP"]["previous_route"] == "ROUTE_CROSS_SECTIONAL"
    assert third["NOISY"]["route"] == "ROUTE_BOTH" and not third["NOISY"]["held_by_hysteresis"]
    assert not any(d["flip_prevented"] for d in third.values())
    # the published (third) routing plan: how long each lane has held its state, read back by the next refresh
    routing = json.loads((three_runs[3]["plan"].parent / "out/globals/routing_plan/routing_plan.json").read_text())
    symbols = routing["targets"][TARGET]["symbols"]
    assert (symbols["NOISY"]["local_runs_in_state"], symbols["REAL"]["local_runs_in_state"]) == (3, 1)
    assert symbols["REAL"]["previous_route"] == "ROUTE_BOTH"
    for run, (parsed, cached) in ((run, three_runs[run]["lanes"]) for run in RUNS):
        # the next refresh reads the lanes, runs_in_state included, from the sidecar: the same as the JSON holds
        assert cached is not None and [tuple(r.values()) for r in cached[0].to_pylist()] == parsed, run
    validate = _cli("validate", three_runs[3]["plan"].parent / "out")  # plan_id and counts hold with the new keys
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_explain_diff_and_summary_show_hysteresis(three_runs: dict) -> None:
    explain = three_runs[2]["explain"]
    assert explain.returncode == 0, explain.stdout + explain.stderr
    assert "held at WEAK_BUT_OK (without hysteresis EXPERIMENTAL" in explain.stdout
    assert "flip prevented: without hysteresis the route would be ROUTE_CROSS_SECTIONAL" in explain.stdout
    diff = _cli("diff", three_runs[1]["plan"], three_runs[2]["plan"])
    assert "hysteresis in B: route flips prevented 2, lanes held 2" in diff.stdout, diff.stdout
    summary = _cli("summary", three_runs[2]["plan"])
    assert "hysteresis: route flips prevented 2, lanes held 2" in summary.stdout, summary.stdout
    report = three_runs[2]["report"]  # the report's plan section, from run 2's database
    assert report["route hysteresis"] == "on"
    assert (report["decisions with a previous route"], report["lanes held by hysteresis"]) == (5, 2)
    assert report["route flips prevented"] == 2
    in_plan = json.loads(three_runs[2]["plan"].read_text())["summary"]["hysteresis"]  # the same counts as the plan
    assert in_plan == {
        "decisions_with_previous_route": report["decisions with a previous route"],
        "lanes_held": report["lanes held by hysteresis"],
        "flips_prevented": report["route flips prevented"],
    }
    assert three_runs[3]["report"]["route flips prevented"] == 0


def test_an_unreadable_previous_plan_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json", encoding="utf-8")
    proc = _cli(
        "refresh", "--candidates", _candidates(tmp_path, 1), "--out", tmp_path / "out", "--db", tmp_path / "t.duckdb",
        "--previous", bad,
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"{bad}: cannot read the previous plan" in proc.stderr.replace("\n", "")
    assert not (tmp_path / "out" / "globals" / "training_plan").exists()  # nothing published


def test_foxml_ignores_hysteresis_and_says_so(tmp_path: Path) -> None:
    args = ["--out", tmp_path / "out", "--db", tmp_path / "t.duckdb", "--policy", _policy(tmp_path, "foxml")]
    for run in (1, 2):
        proc = _cli("refresh", "--candidates", _candidates(tmp_path, run), *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "note: hysteresis is ignored under semantics: foxml" in proc.stdout
    decisions = _decisions(tmp_path / "t.duckdb")
    assert {d["local_hysteresis_status"] for s, d in decisions.items() if s} == {"ignored_under_foxml"}
    assert not any(d["held_by_hysteresis"] for d in decisions.values())
    plan = json.loads((tmp_path / "out/globals/training_plan/master_training_plan.json").read_text())
    assert "hysteresis" not in plan["summary"]  # its keys are written only while it decides
    with duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True) as con:
        rows = dict(header.header(con, {}, tmp_path / "out", tmp_path / "t.duckdb").rows)
    assert rows["route hysteresis"] == "enabled, ignored under semantics: foxml (it applies to strict only)"
