"""Writing the training plan from the dbt relations (the driver never re-decides a route).

Walking skeleton: `globals/training_plan/master_training_plan.json` and its mirror `training_plan.json`, in the
reference's format (shared/reference §5.2), swapped into place together.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from driver.database import fetch_dicts

TRAINING_PLAN_DIR = Path("globals/training_plan")


def config_hash(policy_path: Path) -> str:
    """First 8 hex characters of SHA-256 over the policy file's raw bytes (reference §9)."""
    try:
        return hashlib.sha256(policy_path.read_bytes()).hexdigest()[:8]
    except OSError:
        return "unknown"


def git_commit(cwd: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()[:12] or "unknown"


def _summary(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    by_route: dict[str, int] = {}
    by_type: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    for job in jobs:
        by_route[job["route"]] = by_route.get(job["route"], 0) + 1
        by_type[job["training_type"]] = by_type.get(job["training_type"], 0) + 1
        key = str(job["priority"])
        by_priority[key] = by_priority.get(key, 0) + 1
    return {
        "by_route": by_route,
        "by_type": by_type,
        "by_priority": by_priority,
        "total_cs_jobs": by_type.get("cross_sectional", 0),
        "total_symbol_jobs": by_type.get("symbol_specific", 0),
        "total_blocked": by_type.get("blocked", 0),
    }


def build_master_plan(
    con: duckdb.DuckDBPyConnection, *, policy_path: Path, project: Path, now: datetime | None = None
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    rows = fetch_dicts(con, "select * from training_jobs order by job_order")
    policy = fetch_dicts(con, "select model_families from routing_policy")[0]
    jobs = []
    for r in rows:
        metadata: dict[str, Any] = {"cs_state": r["cs_state"]}
        if r["training_type"] == "cross_sectional":
            metadata["sample_size"] = r["estimated_samples"]
        else:
            metadata["local_state"] = r["local_state"]
            metadata["needs_cs_ensemble"] = bool(r["needs_cs_ensemble"])
        jobs.append(
            {
                "job_id": r["job_id"],
                "target": r["target"],
                "symbol": r["symbol"],
                "route": r["route"],
                "training_type": r["training_type"],
                "model_families": list(r["model_families"]),
                "priority": int(r["priority"]),
                "estimated_samples": r["estimated_samples"],
                "reason": r["reason"],
                "metadata": metadata,
            }
        )
    families = list(policy["model_families"])
    return {
        "metadata": {
            "generated_at": now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
            "run_id": now.strftime("%Y%m%d_%H%M%S"),
            "git_commit": git_commit(project),
            "config_hash": config_hash(policy_path),
            "routing_plan_path": "globals/routing_plan/routing_plan.json",
            "metrics_snapshot": "globals/routing/routing_candidates.parquet",
            "total_jobs": len(jobs),
            "model_families_requested": families or None,
            "model_families_normalized": families,
            "model_families": families,
        },
        "jobs": jobs,
        "summary": _summary(jobs),
    }


def write_plan_dir(dest: Path, files: dict[str, Any]) -> None:
    """Write every file into a temporary folder beside `dest`, then swap it in: the old plan stays whole on failure."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    try:
        for name, payload in files.items():
            (staging / name).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        old = dest.with_name(f".{dest.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if dest.exists():
            os.replace(dest, old)
        os.replace(staging, dest)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def export_training_plan(con: duckdb.DuckDBPyConnection, *, plan_root: Path, policy_path: Path, project: Path) -> Path:
    plan = build_master_plan(con, policy_path=policy_path, project=project)
    dest = plan_root / TRAINING_PLAN_DIR
    write_plan_dir(dest, {"master_training_plan.json": plan, "training_plan.json": plan})
    return dest / "master_training_plan.json"
