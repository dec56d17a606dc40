"""The routes and the job each one gives, read from the one place they are defined: `seeds/route_rules.csv`.

dbt's `training_jobs` model reads the same seed, so SQL, this module, the JSON Schema check and the docs agree.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from trainplan.config.project import project_dir

ROUTE_RULES = Path("seeds/route_rules.csv")


@dataclass(frozen=True)
class RouteRule:
    """One route: the job that carries it (if any), that job's priority, and whether it needs the CS ensemble."""

    route: str
    display_order: int
    job_training_type: str | None
    job_priority: int | None
    job_priority_when_experimental: int | None
    needs_cs_ensemble: bool


def _int(value: str) -> int | None:
    return int(value) if value else None


@cache
def _load(path: Path) -> tuple[RouteRule, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            RouteRule(
                route=row["route"],
                display_order=int(row["display_order"]),
                job_training_type=row["job_training_type"] or None,
                job_priority=_int(row["job_priority"]),
                job_priority_when_experimental=_int(row["job_priority_when_experimental"]),
                needs_cs_ensemble=row["needs_cs_ensemble"].strip().lower() == "true",
            )
            for row in csv.DictReader(handle)
        ]
    return tuple(sorted(rows, key=lambda r: r.display_order))


def route_rules() -> tuple[RouteRule, ...]:
    """Every route, in display order."""
    return _load(project_dir() / ROUTE_RULES)


def route_names() -> list[str]:
    return [rule.route for rule in route_rules()]


def rule_of(route: str) -> RouteRule | None:
    return next((rule for rule in route_rules() if rule.route == route), None)


def expected_priority(route: str, lane_state: str | None, strict: bool) -> int | None:
    """The priority of the job carrying `route` whose own lane is `lane_state` (None: the route gives no job)."""
    rule = rule_of(route)
    if rule is None or rule.job_priority is None:
        return None
    if strict and lane_state == "EXPERIMENTAL" and rule.job_priority_when_experimental is not None:
        return rule.job_priority_when_experimental
    return rule.job_priority
