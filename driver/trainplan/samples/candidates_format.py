"""The reference's routing_candidates file format (README "Your own run directory"): globals/routing/routing_candidates.parquet and
its .json sidecar, as the FoxML aggregator writes them — column order, parquet types, null-typed columns."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

GIT_COMMIT = "1e594aa"

# Columns in the reference's first-seen order: the CS row's keys, timestamp and git_commit (added to every row),
# then model_status, which only symbol rows carry.
SCHEMA = pa.schema(
    [
        ("target", pa.string()),
        ("symbol", pa.string()),
        ("mode", pa.string()),
        ("score", pa.float64()),
        ("score_ci_low", pa.null()),
        ("score_ci_high", pa.null()),
        ("stability", pa.string()),
        ("sample_size", pa.int64()),
        ("leakage_status", pa.string()),
        ("feature_set_id", pa.null()),
        ("failed_model_families", pa.list_(pa.null())),
        ("stability_metrics", pa.null()),
        ("task_type", pa.string()),
        ("metric_name", pa.string()),
        ("timestamp", pa.string()),
        ("git_commit", pa.string()),
        ("model_status", pa.string()),
    ]
)


def reference_rows(candidates: list[dict[str, Any]], written_at: datetime) -> list[dict[str, Any]]:
    """Rows as the reference aggregator emits them at HEAD: stability and leakage always UNKNOWN (README "Your own run directory")."""
    stamp = written_at.isoformat(timespec="microseconds")
    return [
        {
            "target": c["target"],
            "symbol": c["symbol"],
            "mode": c.get("mode", "CROSS_SECTIONAL"),
            "score": c["score"],
            "score_ci_low": None,
            "score_ci_high": None,
            "stability": c.get("stability", "UNKNOWN"),
            "sample_size": int(c["sample_size"]),
            "leakage_status": c.get("leakage_status", "UNKNOWN"),
            "feature_set_id": None,
            "failed_model_families": [],
            "stability_metrics": None,
            "task_type": c.get("task_type"),
            "metric_name": c.get("metric_name"),
            "timestamp": stamp,
            "git_commit": GIT_COMMIT,
            "model_status": c.get("model_status", None if c["symbol"] is None else "OK"),
        }
        for c in candidates
    ]


def _json_value(value: Any) -> Any:
    """pandas' to_json: doubles rounded to 10 significant digits."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.10g}")
    return value


def write_reference_candidates(candidates: list[dict[str, Any]], folder: Path, written_at: datetime) -> Path:
    """Write routing_candidates.parquet and .json under `folder` in the reference's format; return the parquet."""
    rows = reference_rows(candidates, written_at)
    folder.mkdir(parents=True, exist_ok=True)
    parquet = folder / "routing_candidates.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), parquet)
    records = [{k: _json_value(v) for k, v in row.items()} for row in rows]
    text = json.dumps(records, indent=2).replace("/", "\\/")
    (folder / "routing_candidates.json").write_text(text, encoding="utf-8")
    return parquet
