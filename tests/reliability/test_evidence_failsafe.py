"""Regression tests of the reliability issue's input defects, each found as a hostile user on the bundled sample:

1. one appended line with an unterminated quote made every row of the rankings CSV a reject, so its
   LEAKAGE_DETECTED was lost and the target got a STRONG cross-sectional job;
2. one non-UTF-8 byte in a metrics.json, metadata.json, importance snapshot or the rankings CSV failed the whole
   refresh;
3. a duplicated key (two `auc`) passed silently, and NaN / Infinity literals were not refused.

And the rule that fixes them: evidence that could carry a block and cannot be read holds every scope it could
concern to UNKNOWN leakage, with no job (docs/decision-semantics.md, "Unreadable evidence")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Built
from tests.reliability.raw_files import RANKINGS, Refreshed, copy_sample, refresh_cli

TARGETS = ("fwd_ret_4h", "fwd_ret_5m", "fwd_ret_60m", "ret_same_day_close", "y_up_5d", "y_will_peak_60m_0.8")


def _cohort_file(run: Path, target: str, symbol: str | None, name: str) -> Path:
    scope = "CROSS_SECTIONAL" if symbol is None else f"SYMBOL_SPECIFIC/symbol={symbol}"
    return sorted((run / "targets" / target / "reproducibility" / scope).glob(f"cohort=*/{name}"))[0]


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


@pytest.fixture(scope="module")
def bad_line_naming_a_target(tmp_path_factory: pytest.TempPathFactory) -> Refreshed:
    work = tmp_path_factory.mktemp("csv_line")
    run = copy_sample(work / "run")
    _append(run / RANKINGS, b'7,fwd_ret_5m,"fwd_ret_5m,0.5,REGRESSION,0.1\n')
    return refresh_cli(run, work)


@pytest.fixture(scope="module")
def garbage_line(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Refreshed]:
    work = tmp_path_factory.mktemp("csv_garbage")
    run = copy_sample(work / "run")
    _append(run / RANKINGS, b'7,bad_target,"unterminated,x\n')
    return run, work, refresh_cli(run, work)


def test_one_bad_csv_line_is_one_reject_and_the_other_rows_still_count(bad_line_naming_a_target: Refreshed) -> None:
    built = bad_line_naming_a_target
    assert built.returncode == 0, built.stderr
    rejects = built.rows("select source_row, target, problem from rejected_inputs")
    assert rejects == [(7, "fwd_ret_5m", "row 7 does not parse as CSV (an unterminated quote?)")]
    # the CSV's LEAKAGE_DETECTED for ret_same_day_close is still read, and still blocks its CS lane
    status, reason = built.leakage("ret_same_day_close", None)
    assert status == "BLOCKED" and "rankings_csv LEAKAGE_DETECTED -> BLOCKED" in reason
    assert "cs_ret_same_day_close" not in built.job_ids()


def test_a_bad_csv_line_holds_the_cs_lane_of_the_target_it_names(
    bad_line_naming_a_target: Refreshed, sample_built: Built
) -> None:
    built = bad_line_naming_a_target
    status, reason = built.leakage("fwd_ret_5m", None)
    assert status == "UNKNOWN"
    assert reason.startswith("held: leakage evidence unreadable in globals/target_predictability_rankings.csv row 7")
    rule = built.rows("select rule from routing_decisions where target = 'fwd_ret_5m' and symbol is null")
    assert rule == [("cs_leakage_unreadable",)]
    with sample_built.connect() as con:
        sample_jobs = {r[0] for r in con.execute("select job_id from training_jobs").fetchall()}
    # the sample trains fwd_ret_5m cross-sectionally (STRONG); held, it does not — and the other CS jobs stay
    assert "cs_fwd_ret_5m" in sample_jobs and "cs_fwd_ret_5m" not in built.job_ids()
    others = {j for j in sample_jobs if j.startswith("cs_") and j != "cs_fwd_ret_5m"}
    assert others and others <= built.job_ids()


def test_a_csv_line_tied_to_no_target_holds_every_cs_lane(garbage_line: tuple[Path, Path, Refreshed]) -> None:
    _, _, built = garbage_line
    assert built.returncode == 0, built.stderr
    assert built.rows("select source_row, problem from rejected_inputs") == [
        (7, "row 7 does not parse as CSV (an unterminated quote?)")
    ]
    for target in TARGETS:
        status, reason = built.leakage(target, None)
        assert status in ("UNKNOWN", "BLOCKED"), target
        assert "globals/target_predictability_rankings.csv row 7" in reason, target
    assert not {j for j in built.job_ids() if j.startswith("cs_")}
    rules = dict(built.rows("select target, rule from routing_decisions where symbol is null"))
    # the hard blocks before it still decide first: fwd_ret_4h's sample size, ret_same_day_close's BLOCKED evidence
    first = {"fwd_ret_4h": "cs_sample_size_below_min", "ret_same_day_close": "cs_leakage_blocked"}
    assert rules == {t: first.get(t, "cs_leakage_unreadable") for t in TARGETS}


def test_strict_stops_before_a_held_plan_is_written(garbage_line: tuple[Path, Path, Refreshed], tmp_path: Path) -> None:
    run, _, _ = garbage_line
    proc = refresh_cli(run, tmp_path, "--strict")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "row 7 does not parse as CSV" in proc.stderr
    assert not (tmp_path / "out/globals/training_plan/master_training_plan.json").exists()


@pytest.fixture(scope="module")
def bytes_and_strictness(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path], Refreshed]:
    """Defects 2 and 3 in one run directory, each in its own scope."""
    work = tmp_path_factory.mktemp("bytes")
    run = copy_sample(work / "run")
    planted = {
        "metrics_not_utf8": _cohort_file(run, "y_up_5d", "AAPL", "metrics.json"),
        "metadata_not_utf8": _cohort_file(run, "y_up_5d", "MSFT", "metadata.json"),
        "metrics_duplicate_auc": _cohort_file(run, "fwd_ret_60m", None, "metrics.json"),
        "metrics_nan_literal": _cohort_file(run, "fwd_ret_4h", "NVDA", "metrics.json"),
        "quarantine_infinity": run
        / "targets/fwd_ret_5m/reproducibility/SYMBOL_SPECIFIC/symbol=AAPL/feature_quarantine/confirmed_quarantine.json",
        "snapshot_not_utf8": sorted(
            (run / "targets/fwd_ret_4h/reproducibility/feature_importance_snapshots").rglob("*.json")
        )[0],
    }
    for key in ("metrics_not_utf8", "metadata_not_utf8", "snapshot_not_utf8"):
        data = planted[key].read_bytes()
        planted[key].write_bytes(data[:20] + b"\xc3\x28" + data[20:])  # an invalid two-byte sequence
    dup = planted["metrics_duplicate_auc"]
    dup.write_text(dup.read_text().replace('"auc": ', '"auc": 0.99, "auc": ', 1))
    nan = planted["metrics_nan_literal"]
    nan.write_text(json.dumps({**json.loads(nan.read_text()), "std_score": float("nan")}, indent=2))  # writes NaN
    inf = planted["quarantine_infinity"]
    inf.write_text(inf.read_text().replace('"top1_share": 0.71', '"top1_share": -Infinity', 1))
    return run, planted, refresh_cli(run, work)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("metrics_not_utf8", "not valid UTF-8: the bytes cannot be read as text"),
        ("metadata_not_utf8", "not valid UTF-8: the bytes cannot be read as text"),
        ("snapshot_not_utf8", "not valid UTF-8: the bytes cannot be read as text"),
        ("metrics_duplicate_auc", "duplicate key in a JSON object (which value counts is undefined)"),
        ("metrics_nan_literal", "NaN or Infinity literal: not JSON"),
        ("quarantine_infinity", "NaN or Infinity literal: not JSON"),
    ],
)
def test_bad_bytes_and_non_strict_json_are_rejects_naming_the_file(
    bytes_and_strictness: tuple[Path, dict[str, Path], Refreshed], key: str, problem: str
) -> None:
    _, planted, built = bytes_and_strictness
    assert built.returncode == 0, built.stderr
    rows = built.rows("select problem, expected from rejected_inputs where source_file = ?", str(planted[key]))
    assert any(p == problem and e for p, e in rows), rows


@pytest.mark.parametrize(
    ("key", "target", "symbol"),
    [
        ("metrics_not_utf8", "y_up_5d", "AAPL"),
        ("metadata_not_utf8", "y_up_5d", "MSFT"),
        ("metrics_duplicate_auc", "fwd_ret_60m", None),
        ("metrics_nan_literal", "fwd_ret_4h", "NVDA"),
        ("quarantine_infinity", "fwd_ret_5m", "AAPL"),
    ],
)
def test_unreadable_evidence_holds_its_scope(
    bytes_and_strictness: tuple[Path, dict[str, Path], Refreshed], key: str, target: str, symbol: str | None
) -> None:
    run, planted, built = bytes_and_strictness
    status, reason = built.leakage(target, symbol)
    assert status == "UNKNOWN"
    assert str(planted[key].relative_to(run)) in reason
    lane_rule = built.rows(
        "select lane_rule from int_routing__lane_signals where target = ? and symbol is not distinct from ?",
        target,
        symbol,
    )
    assert lane_rule == [("leakage_unreadable",)]
    expected_job = f"cs_{target}" if symbol is None else f"sym_{target}_{symbol}"
    assert expected_job not in built.job_ids()


def test_an_unreadable_snapshot_is_left_out_of_stability_only(
    bytes_and_strictness: tuple[Path, dict[str, Path], Refreshed],
) -> None:
    # a snapshot carries no leakage block: it is left out of the comparisons, nothing is held for it
    _, planted, built = bytes_and_strictness
    reason = built.rows(
        "select excluded_reason from int_stability__snapshots where snapshot_file = ?",
        str(planted["snapshot_not_utf8"]),
    )
    assert reason == [("not valid JSON",)]
    held = built.rows(
        "select evidence_file from int_leakage__unreadable_evidence where evidence_file like '%snapshots%'"
    )
    assert held == []


def test_the_rest_of_the_run_is_decided_as_in_the_sample(
    bytes_and_strictness: tuple[Path, dict[str, Path], Refreshed], sample_built: Built
) -> None:
    _, _, built = bytes_and_strictness
    untouched = ("ret_same_day_close", "y_will_peak_60m_0.8")  # no file of these targets was planted
    query = "select target, symbol, route, rule from routing_decisions where target in (?, ?) order by all"
    with sample_built.connect() as con:
        expected = con.execute(query, list(untouched)).fetchall()
    assert expected and built.rows(query, *untouched) == expected
