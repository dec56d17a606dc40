"""`trainplan validate`: the master plan's schema and the semantic checks the schema cannot express."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from trainplan.plan.files import load_routing_plan, load_training_plan, training_plan_dir
from trainplan.plan.identity import plan_id_problems
from trainplan.plan.routes import expected_priority, rule_of
from trainplan.plan.schema import schema_errors

RUNNABLE_TYPES = {"cross_sectional", "symbol_specific"}


def _job_problems(job: dict[str, Any], strict: bool) -> list[str]:
    jid = job.get("job_id")
    ttype, route, target, symbol = job.get("training_type"), job.get("route"), job.get("target"), job.get("symbol")
    meta = job.get("metadata") or {}
    out = []
    if ttype == "cross_sectional":
        if route != "ROUTE_CROSS_SECTIONAL" or symbol is not None:
            out.append(f"job {jid}: a cross_sectional job must have route ROUTE_CROSS_SECTIONAL and no symbol")
        if jid != f"cs_{target}":
            out.append(f"job {jid}: a cross_sectional job's id must be cs_<target> (cs_{target})")
        expected = expected_priority("ROUTE_CROSS_SECTIONAL", meta.get("cs_state"), strict)
        if job.get("priority") != expected:
            out.append(
                f"job {jid}: priority {job.get('priority')} but a {meta.get('cs_state')} CS lane gives {expected}"
            )
    elif ttype == "symbol_specific":
        rule = rule_of(route)
        expected = expected_priority(route, meta.get("local_state"), strict)
        if rule is None or rule.job_training_type != "symbol_specific":
            out.append(f"job {jid}: route {route} cannot have a symbol_specific job")
        elif job.get("priority") != expected:
            out.append(f"job {jid}: priority {job.get('priority')} but {route} gives {expected}")
        if strict and route == "ROUTE_EXPERIMENTAL_ONLY" and meta.get("local_state") != "EXPERIMENTAL":
            out.append(f"job {jid}: an EXPERIMENTAL_ONLY job needs an EXPERIMENTAL symbol lane")
        if jid != f"sym_{target}_{symbol}":
            out.append(f"job {jid}: a symbol_specific job's id must be sym_<target>_<symbol> (sym_{target}_{symbol})")
        if rule is not None and meta.get("needs_cs_ensemble") != rule.needs_cs_ensemble:
            out.append(f"job {jid}: needs_cs_ensemble must be {str(rule.needs_cs_ensemble).lower()} for {route}")
    if ttype in RUNNABLE_TYPES and not job.get("model_families"):
        out.append(f"job {jid}: a runnable job has no model families")
    return out


def _summary_problems(plan: dict[str, Any], jobs: list[dict[str, Any]]) -> list[str]:
    out = []
    meta, summary = plan.get("metadata") or {}, plan.get("summary") or {}
    if meta.get("total_jobs") != len(jobs):
        out.append(f"metadata.total_jobs is {meta.get('total_jobs')} but the plan has {len(jobs)} jobs")
    for key, field in (("by_route", "route"), ("by_type", "training_type"), ("by_priority", "priority")):
        counted = dict(Counter(str(j.get(field)) for j in jobs))
        if summary.get(key) != counted:
            out.append(f"summary.{key} is {summary.get(key)} but the jobs give {counted}")
    priorities = [j.get("priority") for j in jobs]
    if any(not isinstance(p, int) for p in priorities) or priorities != sorted(priorities, reverse=True):
        out.append("jobs are not in priority order (descending)")
    return out


def _routing_problems(jobs: list[dict[str, Any]], routing: dict[str, Any]) -> list[str]:
    """Jobs agree with routing_plan.json: a CS job per ENABLED target, a symbol job only on a symbol route."""
    out = []
    targets = routing.get("targets") or {}
    cs_jobs = {j.get("target") for j in jobs if j.get("training_type") == "cross_sectional"}
    for target, entry in targets.items():
        enabled = (entry.get("cross_sectional") or {}).get("route") == "ENABLED"
        if enabled != (target in cs_jobs):
            out.append(
                f"target {target}: cross_sectional is {'ENABLED' if enabled else 'DISABLED'} in routing_plan.json "
                f"but the plan {'lacks' if enabled else 'has'} cs_{target}"
            )
    for job in jobs:
        if job.get("training_type") != "symbol_specific":
            continue
        decision = ((targets.get(job.get("target")) or {}).get("symbols") or {}).get(job.get("symbol"))
        if decision is None:
            out.append(f"job {job.get('job_id')}: no routing decision for ({job.get('target')}, {job.get('symbol')})")
        elif decision.get("route") != job.get("route"):
            out.append(
                f"job {job.get('job_id')}: route {job.get('route')} but routing_plan.json says {decision.get('route')}"
            )
    return out


def validate_plan(plan: Any, routing_plan: dict[str, Any] | None = None) -> list[str]:
    """Every problem of a loaded master plan (empty when valid)."""
    problems = schema_errors(plan)
    if not isinstance(plan, dict) or not isinstance(plan.get("jobs"), list):
        return problems
    jobs = [j for j in plan["jobs"] if isinstance(j, dict)]
    dupes = [jid for jid, n in Counter(j.get("job_id") for j in jobs).items() if n > 1]
    problems += [f"job_id {jid!r} appears more than once" for jid in dupes]
    strict = (plan.get("metadata") or {}).get("semantics", "strict") == "strict"
    for job in jobs:
        problems += _job_problems(job, strict)
    problems += _summary_problems(plan, jobs)
    if routing_plan is not None:
        problems += _routing_problems(jobs, routing_plan)
    return problems


def validate_written_plan(path: Path) -> list[str]:
    """Every problem of a written plan: the master's schema and semantics, its agreement with routing_plan.json,
    the mirror against the master, and `plan_id` against the content."""
    plan = load_training_plan(path)
    problems = validate_plan(plan, load_routing_plan(path))
    if isinstance(plan, dict):
        problems += plan_id_problems(training_plan_dir(path), plan)
    return problems
