"""The consumer API for training code: the reference consumer's functions, over a typed `Plan`, with its fallbacks fixed.

Each function keeps the reference's name, arguments and result shape; every place where it behaves differently says
so in its docstring ("Fixed: ..."), and docs/training-api.md has them all in one table.

A plan argument is a `Plan` (what `load_training_plan` returns), or, for code written against plain dicts, the plan
document (a dict), which is checked and converted once per call (an invalid one raises `PlanInvalid`); pass the
`Plan` to avoid re-checking it on every call. `None` means "no plan was asked for": the filters then keep
everything and the getters find nothing, as in the reference. `load_training_plan` gives `None` only for a `None`
folder (or with `missing_ok=True`), so a plan folder that was named but holds no plan is an error, never "no filter".
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from trainplan.plan.files import MASTER, MIRROR, PlanNotFound
from trainplan.plan.files import training_plan_dir as find_training_plan_dir
from trainplan.plan.model import Job, Plan, PlanInvalid, thaw
from trainplan.plan.schema import master_plan_schema
from trainplan.plan.validate import validate_plan

log = logging.getLogger(__name__)

CROSS_SECTIONAL = "cross_sectional"
SYMBOL_SPECIFIC = "symbol_specific"

PlanArg = Plan | Mapping[str, Any] | None
PlanSource = Plan | Mapping[str, Any] | str | os.PathLike[str] | None
_MISSING = object()

__all__ = [
    "PlanComparison",
    "PlanInvalid",
    "PlanNotFound",
    "TrainingPlanSummary",
    "TrainingSelection",
    "apply_training_plan_filter",
    "as_plan",
    "compare_training_plans",
    "filter_symbols_by_training_plan",
    "filter_targets_by_training_plan",
    "get_cs_jobs",
    "get_jobs_for_symbol",
    "get_jobs_for_target",
    "get_model_families_for_job",
    "get_symbol_jobs",
    "get_training_jobs_for_target_symbol",
    "get_training_plan_summary",
    "load_training_plan",
    "should_train_target_symbol",
    "validate_training_plan",
]


# --- arguments ------------------------------------------------------------------------------------------------------


def as_plan(training_plan: PlanArg) -> Plan | None:
    """A `Plan` from a `Plan` (returned as is), a plan document (checked; `PlanInvalid` lists every problem) or None."""
    if training_plan is None or isinstance(training_plan, Plan):
        return training_plan
    if isinstance(training_plan, Mapping):
        return Plan.from_document(thaw(training_plan))
    raise TypeError(f"expected a Plan, a plan document (dict) or None, got {type(training_plan).__name__}")


def _resolve(source: PlanSource) -> Plan | None:
    """A plan argument that may also be a plan folder or file (as the reference's folder arguments)."""
    if isinstance(source, str | os.PathLike):
        return load_training_plan(source)
    return as_plan(source)


def _names(values: Iterable[str], what: str) -> list[str]:
    """A list of names from a list (or any iterable but a string): a string would be read letter by letter."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise TypeError(f"{what}: expected a list of names, got {type(values).__name__}")
    names = list(values)
    bad = [v for v in names if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{what}: expected names (strings), got {bad[:3]!r}")
    return names


def _check_type(training_type: str) -> None:
    known = master_plan_schema()["$defs"]["training_type"]["enum"]
    if training_type not in known:
        raise ValueError(f"unknown training_type {training_type!r} (expected one of {', '.join(known)})")


# --- loading --------------------------------------------------------------------------------------------------------


def load_training_plan(training_plan_dir: str | os.PathLike[str] | None, *, missing_ok: bool = False) -> Plan | None:
    """The plan in `training_plan_dir`: `master_training_plan.json`, else its mirror `training_plan.json`.

    `training_plan_dir` may be the training_plan folder, the `globals/` folder, the run root, or a plan file (then
    only that file is read). The mirror is read when the master is missing or cannot be read or parsed (a warning
    says why), as in the reference.

    Fixed: the plan is checked (JSON Schema and the semantic checks of `trainplan validate`) and an invalid one
    raises `PlanInvalid` listing every problem; the reference used whatever parsed. A master that parses but is
    invalid is not replaced by its mirror (the mirror is the same document).
    Fixed: a folder that was named but holds no plan raises `PlanNotFound`, where the reference returned None and
    its callers trained every target; `missing_ok=True` asks for the reference's None. A JSON value other than an
    object is invalid (`PlanInvalid`), not None. `None` as the folder still gives None: no plan was asked for.
    """
    if training_plan_dir is None:
        return None
    path = Path(training_plan_dir)
    if path.is_file():
        files = [path]
    else:
        try:
            folder = find_training_plan_dir(path)
        except PlanNotFound:
            if missing_ok:
                log.info("no training plan at %s", path)
                return None
            raise
        files = [folder / MASTER, folder / MIRROR]
    errors = []
    for file in files:
        if not file.exists():
            continue
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            errors.append(f"{file}: {err}")
            log.warning("training plan %s cannot be read (%s); trying the next file", file, err)
            continue
        return Plan.from_document(doc, file)
    raise PlanInvalid.listing(str(path), errors or [f"no {MASTER} or {MIRROR}"])


# --- filters --------------------------------------------------------------------------------------------------------


def filter_targets_by_training_plan(
    targets: Iterable[str], training_plan: PlanArg, training_type: str = CROSS_SECTIONAL
) -> list[str]:
    """The targets (in the given order) that have a job of `training_type` in the plan.

    No plan (None): the targets unchanged.
    Fixed: a target is kept if and only if it has a job of that type, so a plan with no such job keeps no target
    (the reference kept every target when none matched, and with 0 jobs raised or, in dev mode, kept them all).
    Fixed: an unknown `training_type` raises ValueError (the reference matched nothing and so kept every target).
    `targets` given as a string raises TypeError (it would be read letter by letter).
    """
    names = _names(targets, "targets")
    plan = as_plan(training_plan)
    if plan is None:
        return names
    _check_type(training_type)
    planned = {job.target for job in plan.by_type.get(training_type, ())}
    kept = [t for t in names if t in planned]
    if names and not kept:
        log.warning("the training plan has no %s job for any of the %d targets: none kept", training_type, len(names))
    return kept


def filter_symbols_by_training_plan(target: str, symbols: Iterable[str], training_plan: PlanArg) -> list[str]:
    """The symbols (in the given order) that have a symbol-specific job for `target` in the plan.

    These are the (target, symbol) pairs that get a model of their own; the target's cross-sectional job, if any,
    pools every symbol and is not affected by this filter. No plan (None): the symbols unchanged.
    Fixed: a target without symbol-specific jobs keeps no symbol (the reference returned every symbol), and a
    target name that is not a string raises TypeError (the reference returned every symbol).
    """
    if not isinstance(target, str):
        raise TypeError(f"target: expected a name, got {type(target).__name__}")
    names = _names(symbols, "symbols")
    plan = as_plan(training_plan)
    if plan is None:
        return names
    planned = {job.symbol for job in plan.by_target.get(target, ()) if job.training_type == SYMBOL_SPECIFIC}
    return [s for s in names if s in planned]


# --- getters --------------------------------------------------------------------------------------------------------


def get_training_jobs_for_target_symbol(training_plan: PlanArg, target: str, symbol: str | None = None) -> list[Job]:
    """The target's jobs whose symbol is `symbol`: with None, its cross-sectional job; with a symbol, that symbol's
    own job (symbol-specific, or blocked: `job.runnable` tells). As in the reference; no plan gives []."""
    plan = as_plan(training_plan)
    if plan is None:
        return []
    return [job for job in plan.by_target.get(target, ()) if job.symbol == symbol]


def get_cs_jobs(training_plan: PlanArg) -> list[Job]:
    """Every cross-sectional job, in plan order (highest priority first). No plan gives []."""
    plan = as_plan(training_plan)
    return [] if plan is None else list(plan.by_type.get(CROSS_SECTIONAL, ()))


def get_symbol_jobs(training_plan: PlanArg) -> list[Job]:
    """Every symbol-specific job, in plan order (highest priority first). No plan gives []."""
    plan = as_plan(training_plan)
    return [] if plan is None else list(plan.by_type.get(SYMBOL_SPECIFIC, ()))


def get_jobs_for_target(training_plan: PlanArg, target: str) -> list[Job]:
    """Every job of the target, of any type, in plan order. No plan gives []."""
    plan = as_plan(training_plan)
    return [] if plan is None else list(plan.by_target.get(target, ()))


def get_jobs_for_symbol(training_plan: PlanArg, symbol: str | None) -> list[Job]:
    """Every job whose symbol is `symbol`, in plan order (None: the cross-sectional jobs). No plan gives [].

    Fixed: the jobs come from a checked plan, so a malformed job is reported when the plan is built (the reference
    crashed here on a job that was not a dict).
    """
    plan = as_plan(training_plan)
    return [] if plan is None else list(plan.by_symbol.get(symbol, ()))


def get_model_families_for_job(
    training_plan: PlanArg, target: str, symbol: str | None = None, training_type: str | None = None
) -> list[str] | None:
    """The model families of the one job for (target, symbol), optionally of `training_type`.

    The job is the one `get_training_jobs_for_target_symbol` finds (symbol None: the cross-sectional job); if
    several match, the cross-sectional one, then the lowest job_id, as in the reference.
    Fixed: the families are that job's own list, never the plan-wide list. A target or symbol without a job gives
    None, which means "do not train it", not "use a default list"; a blocked job gives its own empty list. The
    reference fell back to `metadata.model_families_normalized` / `metadata.model_families`, so every target, even
    one without a job, got the plan-wide families. No plan (None) gives None.
    """
    plan = as_plan(training_plan)
    if plan is None:
        return None
    if training_type is not None:
        _check_type(training_type)
    jobs = [
        job
        for job in get_training_jobs_for_target_symbol(plan, target, symbol)
        if training_type is None or job.training_type == training_type
    ]
    if not jobs:
        return None
    job = min(jobs, key=lambda j: (not j.is_cross_sectional, j.job_id))
    return list(job.model_families)


def should_train_target_symbol(
    training_plan: PlanArg, target: str, symbol: str | None = None, training_type: str | None = None
) -> bool:
    """Whether the plan has a runnable job for (target, symbol) (symbol None: the target's cross-sectional job),
    optionally of `training_type`. No plan (None): True, as in the reference.

    Fixed: a blocked job does not count (the reference answered True for a pair whose only job was blocked), and an
    unknown `training_type` raises ValueError.
    """
    plan = as_plan(training_plan)
    if plan is None:
        return True
    if training_type is not None:
        _check_type(training_type)
    return any(
        job.runnable and (training_type is None or job.training_type == training_type)
        for job in get_training_jobs_for_target_symbol(plan, target, symbol)
    )


# --- the whole filter -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingSelection:
    """What `apply_training_plan_filter` selects. Unpacks as the reference's pair: `targets, symbols = ...`.

    `targets`: the given targets that train something (a cross-sectional model or a symbol model), in the given
    order; `symbols_by_target`: for each of them, the symbols that get a symbol-specific model; `cs_targets`: the
    targets whose cross-sectional model trains.
    """

    targets: list[str]
    symbols_by_target: dict[str, list[str]]
    cs_targets: list[str]

    def __iter__(self) -> Iterator[Any]:
        return iter((self.targets, self.symbols_by_target))


def apply_training_plan_filter(
    targets: Iterable[str],
    symbols: Iterable[str],
    training_plan_dir: PlanSource,
    use_cs_plan: bool = True,
    use_symbol_plan: bool = True,
) -> TrainingSelection:
    """Targets and per-target symbols to train, as the plan says: `targets, symbols_by_target = ...`.

    `training_plan_dir` is a plan folder or file (loaded with `load_training_plan`), a `Plan`, a plan document, or
    None (no plan: every target, each with every symbol). `use_cs_plan`: only targets with a cross-sectional job
    train a cross-sectional model (else all do); `use_symbol_plan`: only symbols with a symbol-specific job for the
    target get a model (else all do). A target is kept when it trains either.

    Fixed: the per-target symbol lists are the result to train from (the reference computed them and only logged
    them), and a target with symbol-specific jobs but no cross-sectional job is kept (the reference dropped it, so
    its symbol jobs never trained). Fixed: nothing falls back to "all targets": a plan with no cross-sectional job
    trains no cross-sectional model, and a named folder without a plan raises `PlanNotFound` (the reference caught
    both and trained every target). Targets or symbols given as a string raise TypeError (the reference returned
    `([], {})`). Runnable jobs outside the given targets and symbols are logged as a warning: they will not train.
    """
    target_names = _names(targets, "targets")
    symbol_names = _names(symbols, "symbols")
    plan = _resolve(training_plan_dir)
    if plan is None:
        return TrainingSelection(target_names, {t: list(symbol_names) for t in target_names}, list(target_names))
    cs = filter_targets_by_training_plan(target_names, plan, CROSS_SECTIONAL) if use_cs_plan else target_names
    per_target = {
        t: filter_symbols_by_training_plan(t, symbol_names, plan) if use_symbol_plan else list(symbol_names)
        for t in target_names
    }
    cs_set = set(cs)
    kept = [t for t in target_names if t in cs_set or per_target[t]]
    given_targets, given_symbols = set(target_names), set(symbol_names)
    left_out = [
        job.job_id
        for job in plan.runnable_jobs
        if job.target not in given_targets or (job.symbol is not None and job.symbol not in given_symbols)
    ]
    if left_out:
        log.warning(
            "%d runnable jobs of the plan are outside the given targets and symbols and will not train: %s",
            len(left_out),
            ", ".join(left_out[:10]) + (" ..." if len(left_out) > 10 else ""),
        )
    log.info("training plan filter: %d -> %d targets", len(target_names), len(kept))
    return TrainingSelection(kept, {t: per_target[t] for t in kept}, [t for t in kept if t in cs_set])


# --- checks, summary, comparison ------------------------------------------------------------------------------------


def validate_training_plan(
    training_plan: PlanArg, routing_plan: Mapping[str, Any] | None = None
) -> tuple[bool, list[str]]:
    """`(ok, problems)`: whether the plan passes its checks, and every problem found (empty when ok).

    Fixed: the checks are the plan's JSON Schema and the semantic checks of `trainplan validate` (job ids, routes,
    priorities, summary counts, duplicate job ids; with `routing_plan`, agreement with routing_plan.json). The
    reference checked a handful of keys. Never raises for an invalid plan: that is what it reports. None is not
    ok ("no training plan").
    """
    if training_plan is None:
        return False, ["no training plan"]
    if not isinstance(training_plan, Mapping):
        raise TypeError(f"expected a Plan or a plan document (dict), got {type(training_plan).__name__}")
    doc = training_plan.to_dict() if isinstance(training_plan, Plan) else thaw(training_plan)
    problems = validate_plan(doc, thaw(routing_plan) if routing_plan is not None else None)
    return not problems, problems


class TrainingPlanSummary(TypedDict):
    """`get_training_plan_summary`'s result (a dict, as in the reference, with every key always present)."""

    total_jobs: int
    cs_jobs: int
    symbol_jobs: int
    blocked_jobs: int
    by_route: dict[str, int]
    by_type: dict[str, int]
    by_priority: dict[str, int]
    generated_at: str | None
    run_id: str | None
    plan_id: str | None


def get_training_plan_summary(training_plan: PlanArg) -> TrainingPlanSummary:
    """Counts of the plan's jobs (total, by type, by route, by priority) and its generated_at, run_id and plan_id.

    Counted from the jobs themselves. No plan (None) gives zeros and None; unlike the reference, every key is
    always present (it left out generated_at and run_id then).
    """
    plan = as_plan(training_plan)
    jobs = plan.jobs if plan is not None else ()
    by_type = Counter(job.training_type for job in jobs)
    meta = plan.metadata if plan is not None else {}
    return TrainingPlanSummary(
        total_jobs=len(jobs),
        cs_jobs=by_type.get(CROSS_SECTIONAL, 0),
        symbol_jobs=by_type.get(SYMBOL_SPECIFIC, 0),
        blocked_jobs=by_type.get("blocked", 0),
        by_route=dict(Counter(job.route for job in jobs)),
        by_type=dict(by_type),
        by_priority={str(p): n for p, n in sorted(Counter(j.priority for j in jobs).items(), reverse=True)},
        generated_at=meta.get("generated_at"),
        run_id=meta.get("run_id"),
        plan_id=meta.get("plan_id"),
    )


class PlanComparison(TypedDict):
    """`compare_training_plans`'s result (a dict, as in the reference, plus the changed fields of each job)."""

    plan1_total: int
    plan2_total: int
    added_jobs: list[str]
    removed_jobs: list[str]
    changed_jobs: list[str]
    common_jobs: int
    changed_fields: dict[str, list[str]]


def compare_training_plans(plan1: PlanSource, plan2: PlanSource) -> PlanComparison:
    """Jobs added, removed and changed from `plan1` to `plan2`, keyed by job_id (each list sorted).

    Each plan is a folder or file (loaded with `load_training_plan`), a `Plan` or a plan document. A changed job is
    one whose document differs in any field; `changed_fields` names the fields.
    Fixed: a plan with a job_id that appears twice is invalid and raises `PlanInvalid` naming the id (the reference
    kept one of the two silently and compared the rest); a missing or invalid plan raises (the reference returned
    `{"error": ...}`).
    """
    a, b = _resolve(plan1), _resolve(plan2)
    if a is None or b is None:
        raise ValueError("compare_training_plans needs two plans (got None)")
    ids_a, ids_b = a.by_id.keys(), b.by_id.keys()
    common = sorted(ids_a & ids_b)
    changed_fields: dict[str, list[str]] = {}
    for job_id in common:
        doc_a, doc_b = a.by_id[job_id].to_dict(), b.by_id[job_id].to_dict()
        fields = [k for k in dict.fromkeys([*doc_a, *doc_b]) if doc_a.get(k, _MISSING) != doc_b.get(k, _MISSING)]
        if fields:
            changed_fields[job_id] = fields
    return PlanComparison(
        plan1_total=len(a.jobs),
        plan2_total=len(b.jobs),
        added_jobs=sorted(ids_b - ids_a),
        removed_jobs=sorted(ids_a - ids_b),
        changed_jobs=sorted(changed_fields),
        common_jobs=len(common),
        changed_fields=changed_fields,
    )
