"""The plan's header: metadata, summary, the files the policy asks for, and `plan_id`.

Reads `routing_policy`, `plan_jobs`, `plan_input_files` and `rejected_inputs`; decides nothing about routes.
`plan_id` is a hash of everything in the plan except `generated_at`, `run_id` and `git_commit`.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from trainplan.export import sql as plan_sql
from trainplan.plan import identity
from trainplan.plan.families import normalise_families
from trainplan.plan.files import CANDIDATES_SNAPSHOT, ROUTING_PLAN_DIR
from trainplan.plan.model import PlanInvalid
from trainplan.plan.schema import SCHEMA_VERSION
from trainplan.warehouse.database import relation_columns, scalar
from trainplan.warehouse.hysteresis import hysteresis_counts, hysteresis_on

FORMAT_SUFFIX = {"JSON": "json", "YAML": "yaml", "MARKDOWN": "md", "MD": "md"}
# The policy's training_plan_files: the training plan's files besides the master and its mirror (always written).
TRAINING_PLAN_FILES = identity.TRAINING_FILES


# plan_id is known only once the jobs are written: files carry this placeholder, patched in place (same length)
PLAN_ID_PLACEHOLDER = "0" * 16


def config_hash(con: duckdb.DuckDBPyConnection) -> str:
    """First 8 hex characters of the SHA-256 of the policy file's raw bytes as the build read them (its row in
    `plan_input_files`), so a policy edited after the build cannot lend the plan its hash (README "Plan files").
    "unknown" (the reference's value) only for a database that records no policy file (not built by dbt, or built
    before trainplan listed the policy there)."""
    if not {"input_kind", "sha256"} <= relation_columns(con, "plan_input_files"):
        return "unknown"
    digest = scalar(con, "select min(sha256) from plan_input_files where input_kind = 'policy'")
    return digest[:8] if digest else "unknown"


def git_commit(cwd: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()[:12] or "unknown"


def _policy(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    cur = con.execute("select * from routing_policy")
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def inputs_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """Hash of the raw files the build read (`plan_input_files`: path relative to the run, SHA-256 of the bytes)."""
    if not {"path", "sha256"} <= relation_columns(con, "plan_input_files"):
        return None
    listing = scalar(
        con, "select coalesce(string_agg(path || chr(9) || sha256, chr(10) order by path), '') from plan_input_files"
    )
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()[:16]


def rejected_inputs(con: duckdb.DuckDBPyConnection) -> int | None:
    """Rows of `rejected_inputs` (raw inputs the build reported and set aside); None where the relation is absent."""
    if not relation_columns(con, "rejected_inputs"):
        return None
    return int(scalar(con, "select count(*) from rejected_inputs"))


def _counts(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, int]:
    return {k: int(n) for k, n in con.execute(plan_sql.jobs_summary(key)).fetchall()}


def build_summary(con: duckdb.DuckDBPyConnection, hysteresis: bool = False) -> dict[str, Any]:
    by_type = _counts(con, "training_type")
    extra = {"hysteresis": hysteresis_counts(con).as_summary()} if hysteresis else {}
    return {
        "by_route": _counts(con, "route"),
        "by_type": by_type,
        "by_priority": _counts(con, "priority"),
        "total_cs_jobs": by_type.get("cross_sectional", 0),
        "total_symbol_jobs": by_type.get("symbol_specific", 0),
        "total_blocked": by_type.get("blocked", 0),
        **extra,
    }


def _formats(policy: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for fmt in policy.get("dump_plan_as") or []:
        suffix = FORMAT_SUFFIX.get(str(fmt).upper())
        if suffix is None:
            raise PlanInvalid(f"routing policy dump_plan_as: unknown format {fmt!r} (expected JSON, YAML or MARKDOWN)")
        if suffix not in out:
            out.append(suffix)
    return out


def _training_files(policy: dict[str, Any]) -> tuple[str, ...]:
    """The policy's training_plan_files (all of them where the policy relation predates the key)."""
    if "training_plan_files" not in policy:
        return TRAINING_PLAN_FILES
    listed = [str(name).upper() for name in policy["training_plan_files"] or []]
    unknown = [name for name in listed if name not in TRAINING_PLAN_FILES]
    if unknown:
        raise PlanInvalid(
            f"routing policy training_plan_files: unknown file {unknown[0]!r} (expected some of "
            f"{', '.join(TRAINING_PLAN_FILES)})"
        )
    return tuple(name for name in TRAINING_PLAN_FILES if name in listed)


@dataclass(frozen=True)
class PlanHeader:
    """Everything of the two plans that is not a job or a routing entry."""

    training_metadata: dict[str, Any]
    routing_metadata: dict[str, Any]
    summary: dict[str, Any]
    formats: list[str]
    training_files: tuple[str, ...]
    has_candidates: bool
    hysteresis: bool = False  # route hysteresis decided the plan: its keys are written

    def views(self) -> list[str]:
        """The derived-view folders to write (by_target, ...), in the reference's order."""
        return [view for view in plan_sql.VIEW_KEYS if view.upper() in self.training_files]


def build_header(con: duckdb.DuckDBPyConnection, *, project: Path, now: datetime) -> PlanHeader:
    policy = _policy(con)
    formats = _formats(policy)
    training_files = _training_files(policy)
    requested = list(policy.get("model_families") or [])
    normalised = normalise_families(requested)
    has_candidates = bool(relation_columns(con, "routing_candidates"))
    snapshot = (ROUTING_PLAN_DIR / CANDIDATES_SNAPSHOT).as_posix() if has_candidates else None
    routing_plan_path = (ROUTING_PLAN_DIR / f"routing_plan.{formats[0]}").as_posix() if formats else None
    hysteresis = hysteresis_on(con)
    summary = build_summary(con, hysteresis)
    common = {
        "schema_version": SCHEMA_VERSION,
        "plan_id": PLAN_ID_PLACEHOLDER,
        "semantics": policy.get("semantics") or "strict",
        "inputs_fingerprint": inputs_fingerprint(con),
        "rejected_inputs": rejected_inputs(con),
    }
    training = {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
        "run_id": now.strftime("%Y%m%d_%H%M%S"),
        "git_commit": git_commit(project),
        "config_hash": config_hash(con),
        "routing_plan_path": routing_plan_path,
        "metrics_snapshot": snapshot,
        "total_jobs": int(scalar(con, "select count(*) from plan_jobs")),
        "model_families_requested": requested or None,
        "model_families_normalized": normalised,
        "model_families": normalised,
        **common,
    }
    routing = {
        "generated_at": training["generated_at"],
        "git_commit": training["git_commit"],
        "config_hash": training["config_hash"],
        "metrics_snapshot": snapshot,
        "view": None,
        **common,
    }
    return PlanHeader(training, routing, summary, formats, training_files, has_candidates, hysteresis)


def plan_id_of(header: PlanHeader, jobs_sha256: str, routes_sha256: str) -> str:
    """The plan's content hash (`trainplan.plan.identity`) from the header and the written jobs and routes."""
    return identity.plan_id_of(
        header.training_metadata, header.summary, jobs_sha256, routes_sha256, header.formats, header.training_files
    )
