"""Section 1's numbers: which plan this is (from its metadata) and what the database behind it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from trainplan.export.header import inputs_fingerprint
from trainplan.report.sources import has_relation
from trainplan.report.tables import Table, table
from trainplan.warehouse.database import scalar
from trainplan.warehouse.hysteresis import hysteresis_counts, hysteresis_setting


def _count(con: duckdb.DuckDBPyConnection, relation: str, where: str = "") -> int | None:
    if not has_relation(con, relation):
        return None
    return int(scalar(con, f"select count(*) from {relation} {where}"))


def _hysteresis(con: duckdb.DuckDBPyConnection) -> list[tuple[str, Any]]:
    """Whether route hysteresis decided this build and, when it did, what it did (the master plan's
    `summary.hysteresis`, from the same relations). Not known (None) where the database holds no policy, as for
    the policy's own row."""
    if not has_relation(con, "routing_policy"):
        return [("route hysteresis", None)]
    enabled, semantics = hysteresis_setting(con)
    if not enabled:
        return [("route hysteresis", "off")]
    if semantics != "strict":
        return [("route hysteresis", f"enabled, ignored under semantics: {semantics} (it applies to strict only)")]
    counts = hysteresis_counts(con)
    return [
        ("route hysteresis", "on"),
        ("decisions with a previous route", counts.decisions_with_previous_route),
        ("lanes held by hysteresis", counts.lanes_held),
        ("route flips prevented", counts.flips_prevented),
    ]


def header(con: duckdb.DuckDBPyConnection, metadata: dict[str, Any], plan: Path, db: Path) -> Table:
    """Plan id, run, policy, semantics, inputs fingerprint, the counts of pairs, targets, jobs and rejects, and what
    route hysteresis did."""
    policy = (
        con.execute("select policy_path from routing_policy").fetchone()
        if has_relation(con, "routing_policy")
        else None
    )
    db_fingerprint = inputs_fingerprint(con)
    plan_fingerprint = metadata.get("inputs_fingerprint")
    if db_fingerprint is None or plan_fingerprint is None:
        same = "not recorded"
    else:
        same = "yes" if db_fingerprint == plan_fingerprint else f"no: the database read {db_fingerprint}"
    rows: list[tuple[str, Any]] = [
        ("plan id", metadata.get("plan_id")),
        ("run", metadata.get("run_id")),
        ("generated at", metadata.get("generated_at")),
        ("git commit", metadata.get("git_commit")),
        ("policy", policy[0] if policy else None),
        ("policy hash", metadata.get("config_hash")),
        ("semantics", metadata.get("semantics")),
        ("inputs fingerprint", plan_fingerprint),
        ("database built from the same inputs", same),
        ("targets", int(scalar(con, "select count(distinct target) from routing_decisions"))),
        ("pairs", _count(con, "routing_decisions", "where symbol is not null")),
        ("jobs", _count(con, "training_jobs")),
        ("jobs in the plan file", metadata.get("total_jobs")),
        ("rejected inputs", _count(con, "rejected_inputs")),
        *_hysteresis(con),
        ("plan file", str(plan)),
        ("database", str(db)),
    ]
    return table("Plan", ["field", "value"], rows)
