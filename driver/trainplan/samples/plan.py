"""A synthetic master training plan of any size that passes `trainplan validate`, for tests and benchmarks of
training (no dbt build needed). The routes rotate so every runnable route, and optionally a blocked job, appears.

Jobs are in the export's order: priority descending, then target, CS job first, then symbol.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trainplan.plan.schema import SCHEMA_VERSION

# (route, symbol lane state, priority, needs_cs_ensemble) of a symbol job, rotated over the symbols of a target
SYMBOL_ROUTES = (
    ("ROUTE_BOTH", "STRONG", 3, True),
    ("ROUTE_SYMBOL_SPECIFIC", "STRONG", 2, False),
    ("ROUTE_EXPERIMENTAL_ONLY", "EXPERIMENTAL", 1, False),
)
FAMILIES = ("lightgbm", "xgboost")


@dataclass(frozen=True)
class SyntheticPlan:
    """What to generate: targets x symbols symbol jobs, one CS job per target, and optionally blocked jobs."""

    targets: Sequence[str]
    symbols: Sequence[str]
    cs_jobs: bool = True
    blocked_symbols: Sequence[str] = ()  # these symbols get a training_type `blocked` job instead
    families: Sequence[str] = FAMILIES
    excluded_features: Sequence[str] = ()


def _cs_job(target: str, families: list[str], excluded: list[str]) -> dict[str, Any]:
    return {
        "job_id": f"cs_{target}",
        "target": target,
        "symbol": None,
        "route": "ROUTE_CROSS_SECTIONAL",
        "training_type": "cross_sectional",
        "model_families": families,
        "priority": 2,
        "estimated_samples": 1000,
        "reason": "synthetic cross-sectional job",
        "metadata": {"cs_state": "STRONG", "sample_size": 1000, "stability": "STABLE"},
        "excluded_features": excluded,
    }


def _symbol_job(target: str, symbol: str, index: int, families: list[str], excluded: list[str]) -> dict[str, Any]:
    route, state, priority, ensemble = SYMBOL_ROUTES[index % len(SYMBOL_ROUTES)]
    return {
        "job_id": f"sym_{target}_{symbol}",
        "target": target,
        "symbol": symbol,
        "route": route,
        "training_type": "symbol_specific",
        "model_families": families,
        "priority": priority,
        "estimated_samples": 100 + index,
        "reason": f"synthetic {route} job",
        "metadata": {"cs_state": "STRONG", "local_state": state, "needs_cs_ensemble": ensemble},
        "excluded_features": excluded,
    }


def _blocked_job(target: str, symbol: str) -> dict[str, Any]:
    return {
        "job_id": f"blocked_{target}_{symbol}",
        "target": target,
        "symbol": symbol,
        "route": "ROUTE_BLOCKED",
        "training_type": "blocked",
        "model_families": [],
        "priority": 0,
        "estimated_samples": None,
        "reason": "synthetic blocked pair",
        "metadata": {"cs_state": "DISALLOWED", "local_state": "DISALLOWED", "needs_cs_ensemble": False},
        "excluded_features": [],
    }


def synthetic_plan_document(spec: SyntheticPlan) -> dict[str, Any]:
    """A valid master plan document (a fresh dict each call); plan_id is a hash of its jobs."""
    families, excluded = list(spec.families), list(spec.excluded_features)
    jobs: list[dict[str, Any]] = []
    for target in spec.targets:
        if spec.cs_jobs:
            jobs.append(_cs_job(target, families, excluded))
        for index, symbol in enumerate(spec.symbols):
            if symbol in spec.blocked_symbols:
                jobs.append(_blocked_job(target, symbol))
            else:
                jobs.append(_symbol_job(target, symbol, index, families, excluded))
    jobs.sort(key=lambda j: -j["priority"])  # stable: keeps target, CS first, then symbol within a priority
    plan_id = hashlib.sha256(json.dumps(jobs, sort_keys=True).encode()).hexdigest()[:16]
    by_type = Counter(j["training_type"] for j in jobs)
    return {
        "metadata": {
            "generated_at": "2026-01-05T10:00:00.000000Z",
            "run_id": "20260105_100000",
            "git_commit": "unknown",
            "config_hash": "unknown",
            "routing_plan_path": None,
            "metrics_snapshot": None,
            "total_jobs": len(jobs),
            "model_families_requested": families,
            "model_families_normalized": families,
            "model_families": families,
            "schema_version": SCHEMA_VERSION,
            "plan_id": plan_id,
            "semantics": "strict",
            "inputs_fingerprint": None,
            "rejected_inputs": None,
        },
        "jobs": jobs,
        "summary": {
            "by_route": dict(Counter(j["route"] for j in jobs)),
            "by_type": dict(by_type),
            "by_priority": dict(Counter(str(j["priority"]) for j in jobs)),
            "total_cs_jobs": by_type.get("cross_sectional", 0),
            "total_symbol_jobs": by_type.get("symbol_specific", 0),
            "total_blocked": by_type.get("blocked", 0),
        },
    }
