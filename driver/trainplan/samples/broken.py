"""A deterministic run directory with deliberately broken files (examples/broken_run), one per kind of bad input.

It is a small valid sample run (2 targets x 3 symbols) plus files that must each be rejected. Every broken cohort
is newer than the valid one of its scope, so reading it instead of rejecting it would change a candidate.
`BROKEN_CASES` names each planted file and the problem rejected_inputs must report for it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from trainplan.errors import storage_errors
from trainplan.samples.candidates_format import SCHEMA, reference_rows
from trainplan.samples.sample import (
    BASE_TIME,
    SampleOptions,
    _cohort_id,
    _metadata,
    _symbol_names,
    _tr_metrics,
    _write_json,
    generate_sample,
    universe_sig,
)

BROKEN_OPTIONS = {"targets": 2, "symbols": 3, "seed": 11}
LATER = BASE_TIME + timedelta(days=1)
T5, T60 = "fwd_ret_5m", "fwd_ret_60m"
# The sample's older target-ranking cohort of a target (its name sorts last; README "What is read, and what is rejected")
RUN_UNIVERSE = universe_sig(_symbol_names(BROKEN_OPTIONS["symbols"]))
OLD_COHORT = f"cs_2025Q3_{RUN_UNIVERSE}_min_cs3_max1000_v1_ffffffff"
# fwd_ret_60m's intended target-ranking cohort: its metrics.parquet is truncated, its metrics.json stays readable
T60_RANKING_COHORT = _cohort_id("cs", RUN_UNIVERSE, 3, f"{T60}|TR")

# (path under the run directory, a fragment of the problem rejected_inputs reports for it)
BROKEN_CASES: list[tuple[str, str]] = [
    (f"targets/{T5}/reproducibility/CROSS_SECTIONAL/cohort=cs_broken_malformed/metrics.json", "malformed JSON"),
    (f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=AAPL/cohort=sy_broken_nan/metrics.json", "key auc is NaN"),
    (
        f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=AAPL/cohort=sy_broken_nan/metrics.json",
        "NaN or Infinity literal: not JSON",
    ),
    (f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=AAPL/cohort=sy_broken_no_time/metrics.json", "no time"),
    (
        f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=MSFT/cohort=sy_broken_no_auc/metrics.json",
        "missing key auc",
    ),
    (
        f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=GOOGL/cohort=sy_broken_str_auc/metrics.json",
        "not a number",
    ),
    (f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=GOOGL/cohort=sy_broken_stage/metrics.json", "unknown stage"),
    (f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/cohort=cs_broken_stray/metrics.json", "stray cohort folder"),
    (f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=MSFT/cohort=sy_broken_twin/metrics.json", "disagree"),
    (f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=MSFT/cohort=sy_broken_twin/metrics.parquet", "disagree"),
    (f"targets/{T5}/reproducibility/SYMBOL_SPECIFIC/symbol=ZZZ/", "symbol folder without cohorts"),
    (f"targets/{T5}/reproducibility/CROSS_SECTIONAL/target_confidence.json", "key auc is VARCHAR"),
    (f"targets/{T60}/reproducibility/CROSS_SECTIONAL/cohort=cs_broken_task/metrics.json", "unknown task_type"),
    (
        f"targets/{T60}/reproducibility/SYMBOL_SPECIFIC/symbol=MSFT/cohort=sy_broken_flag/metrics.json",
        "unknown leakage_flag",
    ),
    (
        f"targets/{T60}/reproducibility/SYMBOL_SPECIFIC/symbol=GOOGL/cohort=sy_broken_target/metrics.json",
        "does not match its folder",
    ),
    (
        f"targets/{T60}/reproducibility/CROSS_SECTIONAL/feature_quarantine/suspects_CROSS_SECTIONAL_ALL.json",
        "malformed JSON",
    ),
    (
        f"targets/{T60}/reproducibility/SYMBOL_SPECIFIC/symbol=AAPL/feature_quarantine/confirmed_quarantine.json",
        "not a list",
    ),
    (f"targets/{T60}/reproducibility/CROSS_SECTIONAL/cohort={OLD_COHORT}/metadata.json", "malformed JSON"),
    (
        f"targets/{T60}/reproducibility/CROSS_SECTIONAL/cohort={T60_RANKING_COHORT}/metrics.parquet",
        "not a readable parquet",
    ),
    (f"targets/{T60}/reproducibility/feature_importance_snapshots/replicate/broken/broken.json", "malformed JSON"),
    ("targets/broken_target/reproducibility/CROSS_SECTIONAL/cohort=cs_broken_only/metrics.json", "malformed JSON"),
    ("targets/broken_target/", "target folder with nothing readable"),
    ("globals/target_predictability_rankings.csv", "unknown leakage_flag 'SOMETHING_ELSE'"),
    ("globals/run_context.json", "not a JSON object"),
]

# Rows of the broken routing_candidates.parquet: (target, symbol, change to a valid row, expected problem or None)
BROKEN_CANDIDATE_ROWS: list[tuple[str, str | None, dict[str, Any], str | None]] = [
    ("t_ok", None, {"stability": "stable", "leakage_status": "safe"}, None),
    ("t_ok", "AAPL", {"score": float("nan")}, "score is NaN"),
    ("t_ok", "MSFT", {"stability": "SOMETHING_ELSE"}, "unknown stability 'SOMETHING_ELSE'"),
    ("t_ok", "GOOGL", {"leakage_status": "LEAKY"}, "unknown leakage_status 'LEAKY'"),
    ("t_dup", "AAPL", {}, "2 rows for the same (target, symbol)"),
    ("t_dup", "AAPL", {"score": 0.3}, "2 rows for the same (target, symbol)"),
    ("t_ok", "META", {"sample_size": -5}, "sample_size is not a non-negative number"),
]


def _scope(root: Path, target: str, symbol: str | None) -> Path:
    repro = root / "targets" / target / "reproducibility"
    return repro / "CROSS_SECTIONAL" if symbol is None else repro / "SYMBOL_SPECIFIC" / f"symbol={symbol}"


def _cohort(
    root: Path, target: str, symbol: str | None, name: str, metrics: dict[str, Any] | str, with_metadata: bool = True
) -> None:
    """A broken cohort: metrics.json only (a parquet twin would be read in its place), newer than the valid ones."""
    folder = _scope(root, target, symbol) / f"cohort={name}"
    folder.mkdir(parents=True, exist_ok=True)
    text = metrics if isinstance(metrics, str) else json.dumps(metrics, indent=2, ensure_ascii=False)
    (folder / "metrics.json").write_text(text + "\n", encoding="utf-8")
    if with_metadata:
        view = "CROSS_SECTIONAL" if symbol is None else "SYMBOL_SPECIFIC"
        members = ["AAPL", "MSFT", "GOOGL"] if symbol is None else [symbol]
        _write_json(folder / "metadata.json", _metadata(name, "TARGET_RANKING", view, target, members, 9999, LATER))


_DROP = object()  # a key to leave out


def _tr(target: str, **changes: Any) -> dict[str, Any]:
    """A target-ranking metrics.json (newer than the valid cohorts, score 0.9) with some keys changed or dropped."""
    metrics = _tr_metrics(target, 0.9, "REGRESSION", 9999, "OK", LATER)
    metrics.update(changes)
    return {k: v for k, v in metrics.items() if v is not _DROP}


def _lower_case_enums(root: Path) -> None:
    """fwd_ret_60m/AAPL's valid target-ranking cohort with lower-case task_type and leakage_flag: accepted, normalised."""
    for metrics_json in sorted(_scope(root, T60, "AAPL").glob("cohort=*/metrics.json")):
        metrics = json.loads(metrics_json.read_text(encoding="utf-8"))
        if metrics["stage"].upper() != "TARGET_RANKING":
            continue
        metrics["task_type"] = metrics["task_type"].lower()
        metrics["leakage_flag"] = metrics["leakage_flag"].lower()
        _write_json(metrics_json, metrics)
        pq.write_table(pa.Table.from_pylist([metrics]), metrics_json.with_name("metrics.parquet"))


def _broken_rankings(root: Path) -> None:
    path = root / "globals" / "target_predictability_rankings.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row in rows:
        if row["target"] == T60:
            row["leakage_flag"] = "SOMETHING_ELSE"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _broken_candidates(root: Path) -> None:
    """globals/routing/routing_candidates.parquet with one bad row per kind (valid rows stay readable)."""
    rows = []
    for target, symbol, change, _ in BROKEN_CANDIDATE_ROWS:
        row = {"target": target, "symbol": symbol, "score": 0.2, "sample_size": 5000, "task_type": "REGRESSION"}
        row["metric_name"] = "R²"
        row.update(change)
        rows.append(row)
    folder = root / "globals" / "routing"
    (folder / "routing_candidates.json").unlink(missing_ok=True)
    pq.write_table(
        pa.Table.from_pylist(reference_rows(rows, BASE_TIME), schema=SCHEMA), folder / "routing_candidates.parquet"
    )


def generate_broken_run(out: Path, policy: dict[str, Any]) -> Path:
    """Write examples/broken_run: a valid small run plus one broken file per kind of bad input."""
    with storage_errors("writing the broken sample run", folder=out):
        return _generate_broken_run(out, policy)


def _generate_broken_run(out: Path, policy: dict[str, Any]) -> Path:
    root = generate_sample(SampleOptions(out=out, **BROKEN_OPTIONS), policy)
    _cohort(root, T5, None, "cs_broken_malformed", '{"target": "fwd_ret_5m", "stage": "target_ranking", "auc": 0.9')
    _cohort(root, T5, "AAPL", "sy_broken_nan", _tr(T5, auc=float("nan")))
    _cohort(root, T5, "AAPL", "sy_broken_no_time", _tr(T5, timestamp=_DROP), with_metadata=False)
    _cohort(root, T5, "MSFT", "sy_broken_no_auc", _tr(T5, auc=_DROP))
    _cohort(root, T5, "MSFT", "sy_broken_twin", _tr(T5))
    twin = _tr(T5, auc=0.95)
    pq.write_table(pa.Table.from_pylist([twin]), _scope(root, T5, "MSFT") / "cohort=sy_broken_twin" / "metrics.parquet")
    _cohort(root, T5, "GOOGL", "sy_broken_str_auc", _tr(T5, auc="high"))
    _cohort(root, T5, "GOOGL", "sy_broken_stage", _tr(T5, stage="SOMETHING_ELSE"))
    stray = root / "targets" / T5 / "reproducibility" / "SYMBOL_SPECIFIC"
    _cohort(root, T5, None, "cs_broken_stray", _tr(T5))
    (_scope(root, T5, None) / "cohort=cs_broken_stray").rename(stray / "cohort=cs_broken_stray")
    _write_json(_scope(root, T5, "ZZZ") / "target_confidence.json", {"target": T5, "auc": 0.7})
    confidence = _scope(root, T5, None) / "target_confidence.json"
    _write_json(confidence, {**json.loads(confidence.read_text(encoding="utf-8")), "auc": "n/a"})
    _cohort(root, T60, None, "cs_broken_task", _tr(T60, task_type="SOMETHING_ELSE"))
    _cohort(root, T60, "MSFT", "sy_broken_flag", _tr(T60, leakage_flag="SOMETHING_ELSE"))
    _cohort(root, T60, "GOOGL", "sy_broken_target", _tr(T5))
    quarantine = _scope(root, T60, None) / "feature_quarantine"
    quarantine.mkdir(parents=True, exist_ok=True)
    (quarantine / "suspects_CROSS_SECTIONAL_ALL.json").write_text('{"ts": "2026-01-05T10:00:00Z", "target": ', "utf-8")
    _write_json(
        _scope(root, T60, "AAPL") / "feature_quarantine" / "confirmed_quarantine.json",
        {
            "ts": "2026-01-05T10:00:00Z",
            "target": T60,
            "view": "SYMBOL_SPECIFIC",
            "symbol": "AAPL",
            "confirmed_features": "feat_000",
        },
    )
    (_scope(root, T60, None) / f"cohort={OLD_COHORT}" / "metadata.json").write_text("{", encoding="utf-8")
    parquet = _scope(root, T60, None) / f"cohort={T60_RANKING_COHORT}" / "metrics.parquet"
    parquet.write_bytes(parquet.read_bytes()[:100])
    snapshot = root / "targets" / T60 / "reproducibility" / "feature_importance_snapshots" / "replicate" / "broken"
    snapshot.mkdir(parents=True)
    (snapshot / "broken.json").write_text('{"target": "fwd_ret_60m", "features": [', encoding="utf-8")
    _cohort(root, "broken_target", None, "cs_broken_only", "not json at all", with_metadata=False)
    _lower_case_enums(root)
    _broken_rankings(root)
    (root / "globals" / "run_context.json").write_text('["CROSS_SECTIONAL"]\n', encoding="utf-8")
    _broken_candidates(root)
    return root
