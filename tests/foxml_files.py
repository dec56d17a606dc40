"""An independent reading of a FoxML run directory in plain Python, to check what dbt built against.

It picks, per (target from the file, symbol from the path), the target-ranking cohort with the latest
metadata.json created_at (else metrics.json timestamp) — the intended cohort — and returns its score,
sample size and id. It knows nothing of trainplan's SQL.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

SAMPLE_SIZE_KEYS = ("n_effective", "n_effective_cs", "n_samples", "sample_size")


class Cohort(NamedTuple):
    score: float
    sample_size: int
    cohort_id: str
    recency: datetime


def _symbol(path: Path) -> str | None:
    for part in path.parts:
        if part.startswith("symbol="):
            return part.removeprefix("symbol=")
    return None


def intended_candidates(run_dir: Path) -> dict[tuple[str, str | None], Cohort]:
    """(target, symbol) -> the latest target-ranking cohort, read from the files."""
    best: dict[tuple[str, str | None], Cohort] = {}
    for metrics_path in sorted((run_dir / "targets").glob("*/reproducibility/**/cohort=*/metrics.json")):
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        if str(metrics["stage"]).upper() != "TARGET_RANKING":
            continue
        meta_path = metrics_path.with_name("metadata.json")
        stamp = json.loads(meta_path.read_text(encoding="utf-8"))["created_at"] if meta_path.exists() else None
        recency = datetime.fromisoformat(stamp or metrics["timestamp"])
        size = next(metrics[k] for k in SAMPLE_SIZE_KEYS if metrics.get(k) is not None)
        cohort_id = metrics_path.parent.name.removeprefix("cohort=")
        key = (metrics["target"], _symbol(metrics_path))
        found = Cohort(float(metrics["auc"]), int(size), cohort_id, recency)
        if key not in best or recency > best[key].recency:
            best[key] = found
    return best


def built_candidates(con) -> dict[tuple[str, str | None], tuple[float, int, str | None]]:
    """(target, symbol) -> (score, sample_size, cohort_id) of routing_candidates; fails on a duplicate pair."""
    rows = con.execute("select target, symbol, score, sample_size, cohort_id from routing_candidates").fetchall()
    out = {(t, s): (score, n, c) for t, s, score, n, c in rows}
    assert len(out) == len(rows), "routing_candidates has a duplicate (target, symbol)"
    return out
