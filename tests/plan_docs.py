"""Small valid master-plan documents built in memory, for the plan model's and the consumer API's tests.

Priorities come from seeds/route_rules.csv (through `expected_priority`), the summary and `total_jobs` are counted
from the jobs, and the jobs are put in priority order, so `validate_plan` accepts what `plan_doc` returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from trainplan.plan.routes import expected_priority, rule_of

FAMILIES = ("lightgbm", "xgboost")

METADATA: dict[str, Any] = {
    "generated_at": "2026-01-05T10:31:07.382376Z",
    "run_id": "20260105_103107",
    "git_commit": "1e594aa",
    "config_hash": "cafebabe",
    "routing_plan_path": "globals/routing_plan/routing_plan.json",
    "metrics_snapshot": "globals/routing_plan/routing_candidates.parquet",
    "total_jobs": 0,
    "model_families_requested": list(FAMILIES),
    "model_families_normalized": list(FAMILIES),
    "model_families": list(FAMILIES),
    "schema_version": "1.0",
    "plan_id": "0123456789abcdef",
    "semantics": "strict",
    "inputs_fingerprint": "fedcba9876543210",
    "rejected_inputs": 0,
}


def cs_job(
    target: str, state: str = "STRONG", families: Sequence[str] = FAMILIES, excluded: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "job_id": f"cs_{target}",
        "target": target,
        "symbol": None,
        "route": "ROUTE_CROSS_SECTIONAL",
        "training_type": "cross_sectional",
        "model_families": list(families),
        "priority": expected_priority("ROUTE_CROSS_SECTIONAL", state, True),
        "estimated_samples": 25000,
        "reason": f"cs {state}",
        "metadata": {"cs_state": state, "sample_size": 25000, "stability": "STABLE"},
        "excluded_features": list(excluded),
    }


def sym_job(
    target: str,
    symbol: str,
    route: str = "ROUTE_SYMBOL_SPECIFIC",
    local_state: str = "STRONG",
    families: Sequence[str] = FAMILIES,
    excluded: Sequence[str] = (),
) -> dict[str, Any]:
    rule = rule_of(route)
    assert rule is not None
    if route == "ROUTE_EXPERIMENTAL_ONLY":
        local_state = "EXPERIMENTAL"
    return {
        "job_id": f"sym_{target}_{symbol}",
        "target": target,
        "symbol": symbol,
        "route": route,
        "training_type": "symbol_specific",
        "model_families": list(families),
        "priority": expected_priority(route, local_state, True),
        "estimated_samples": 2000,
        "reason": f"{route} {local_state}",
        "metadata": {"cs_state": "STRONG", "local_state": local_state, "needs_cs_ensemble": rule.needs_cs_ensemble},
        "excluded_features": list(excluded),
    }


def blocked_job(target: str, symbol: str) -> dict[str, Any]:
    return {
        "job_id": f"blocked_{target}_{symbol}",
        "target": target,
        "symbol": symbol,
        "route": "ROUTE_BLOCKED",
        "training_type": "blocked",
        "model_families": [],
        "priority": 0,
        "estimated_samples": None,
        "reason": "blocked",
        "metadata": {"cs_state": "DISALLOWED", "local_state": "DISALLOWED"},
        "excluded_features": [],
    }


def plan_doc(jobs: Sequence[dict[str, Any]], **metadata: Any) -> dict[str, Any]:
    """A valid plan of these jobs (sorted by priority, stable), its summary counted from them."""
    ordered = sorted(jobs, key=lambda j: -j["priority"])
    by_type = Counter(j["training_type"] for j in ordered)
    return {
        "metadata": {**METADATA, "total_jobs": len(ordered), **metadata},
        "jobs": ordered,
        "summary": {
            "by_route": dict(Counter(j["route"] for j in ordered)),
            "by_type": dict(by_type),
            "by_priority": dict(Counter(str(j["priority"]) for j in ordered)),
            "total_cs_jobs": by_type.get("cross_sectional", 0),
            "total_symbol_jobs": by_type.get("symbol_specific", 0),
            "total_blocked": by_type.get("blocked", 0),
        },
    }
