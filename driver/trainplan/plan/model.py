"""The plan as typed, immutable objects: `Plan` and `Job`, built once from a master plan, with indexes.

Both keep `obj["key"]` access (they are read-only mappings over the document's keys), so code written for the
reference consumer's dicts keeps working; new code uses the attributes. A `Plan` is built only from a document
that passes the schema and the semantic checks of `trainplan.plan.validate` (`PlanInvalid` lists every problem).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from trainplan.errors import TrainplanError

RUNNABLE_TYPES = frozenset({"cross_sectional", "symbol_specific"})


class PlanInvalid(TrainplanError, ValueError):
    """A plan (read from a file, or built by the export) fails its schema or a semantic check.

    `problems` lists every problem found (one line each); an error raised with a message alone lists that message.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems) if problems is not None else [message]

    @classmethod
    def listing(cls, source: str, problems: list[str]) -> PlanInvalid:
        """The error for a plan with these problems, every one listed (the first 50 shown in the message)."""
        shown = problems[:50]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        message = f"{source}: invalid training plan ({len(problems)} problems):\n  " + "\n  ".join(shown) + more
        return cls(message, problems)


def _freeze(value: Any) -> Any:
    """A read-only deep copy of a JSON value: mappings become MappingProxyType, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """A plain JSON value (dicts and lists) from a frozen one, e.g. to dump it again."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class Job(Mapping[str, Any]):
    """One training job of the plan. `job["model_families"]` still works; the attributes are typed."""

    job_id: str
    target: str
    symbol: str | None
    route: str
    training_type: str
    model_families: tuple[str, ...]
    priority: int
    estimated_samples: int | None
    reason: str
    excluded_features: tuple[str, ...]
    metadata: Mapping[str, Any]
    order: int  # position in the plan's jobs list
    _doc: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], order: int) -> Job:
        frozen = _freeze(doc)
        return cls(
            job_id=str(doc["job_id"]),
            target=str(doc["target"]),
            symbol=doc.get("symbol"),
            route=str(doc["route"]),
            training_type=str(doc["training_type"]),
            model_families=tuple(doc.get("model_families") or ()),
            priority=int(doc["priority"]),
            estimated_samples=doc.get("estimated_samples"),
            reason=str(doc.get("reason") or ""),
            excluded_features=tuple(doc.get("excluded_features") or ()),
            metadata=frozen.get("metadata") or MappingProxyType({}),
            order=order,
            _doc=frozen,
        )

    @property
    def runnable(self) -> bool:
        """A job training runs (cross-sectional or symbol-specific; a `blocked` job is informational)."""
        return self.training_type in RUNNABLE_TYPES

    @property
    def is_cross_sectional(self) -> bool:
        return self.training_type == "cross_sectional"

    def to_dict(self) -> dict[str, Any]:
        """The job as the plan file holds it (plain dicts and lists)."""
        return thaw(self._doc)

    def __getitem__(self, key: str) -> Any:
        return self._doc[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc)

    def __len__(self) -> int:
        return len(self._doc)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Job):
            return self.to_dict() == other.to_dict()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.job_id)

    def __reduce__(self) -> tuple[Any, ...]:
        # MappingProxyType cannot be pickled: a Job crosses to a worker process as its document
        return (Job.from_document, (self.to_dict(), self.order))


def _index(jobs: tuple[Job, ...], key: str) -> Mapping[Any, tuple[Job, ...]]:
    groups: dict[Any, list[Job]] = {}
    for job in jobs:
        groups.setdefault(getattr(job, key), []).append(job)
    return MappingProxyType({k: tuple(v) for k, v in groups.items()})


@dataclass(frozen=True, eq=False)
class Plan(Mapping[str, Any]):
    """A validated master training plan with its jobs indexed by id, target, symbol, type and route.

    `source` is the file it was read from (None when built from a document in memory).
    """

    metadata: Mapping[str, Any]
    jobs: tuple[Job, ...]
    summary: Mapping[str, Any]
    source: Path | None
    by_id: Mapping[str, Job]
    by_target: Mapping[str, tuple[Job, ...]]
    by_symbol: Mapping[str | None, tuple[Job, ...]]
    by_type: Mapping[str, tuple[Job, ...]]
    by_route: Mapping[str, tuple[Job, ...]]
    _doc: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_document(cls, doc: Any, source: Path | None = None, *, check: bool = True) -> Plan:
        """Build a Plan; with `check` (the default) an invalid document raises PlanInvalid listing every problem."""
        if check:
            from trainplan.plan.validate import validate_plan  # validate reads plans as documents, not Plans

            problems = validate_plan(doc)
            if problems:
                raise PlanInvalid.listing(str(source) if source else "plan", problems)
        jobs = tuple(Job.from_document(j, i) for i, j in enumerate(doc["jobs"]))
        return cls(
            metadata=_freeze(doc.get("metadata") or {}),
            jobs=jobs,
            summary=_freeze(doc.get("summary") or {}),
            source=source,
            by_id=MappingProxyType({j.job_id: j for j in jobs}),
            by_target=_index(jobs, "target"),
            by_symbol=_index(jobs, "symbol"),
            by_type=_index(jobs, "training_type"),
            by_route=_index(jobs, "route"),
            # keys besides these three (none in a plan trainplan writes) are kept, frozen too
            _doc=MappingProxyType(
                {"metadata": None, "jobs": None, "summary": None}
                | {k: _freeze(v) for k, v in doc.items() if k not in ("metadata", "jobs", "summary")}
            ),
        )

    @classmethod
    def from_json(cls, text: str, source: Path | None = None) -> Plan:
        try:
            doc = json.loads(text)
        except ValueError as err:
            raise PlanInvalid.listing(str(source) if source else "plan", [f"not valid JSON: {err}"]) from err
        return cls.from_document(doc, source)

    @property
    def plan_id(self) -> str | None:
        return self.metadata.get("plan_id")

    @property
    def runnable_jobs(self) -> tuple[Job, ...]:
        return tuple(j for j in self.jobs if j.runnable)

    @property
    def targets(self) -> tuple[str, ...]:
        """Every target with a job, in the order of its first job in the plan."""
        return tuple(self.by_target)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol with a job of its own (symbol-specific or blocked), in the order of its first job."""
        return tuple(s for s in self.by_symbol if s is not None)

    def jobs_for(self, target: str, symbol: str | None = None) -> tuple[Job, ...]:
        """The target's jobs; with `symbol`, the jobs that train (target, symbol): its own symbol job and the
        target's cross-sectional job (which pools every symbol)."""
        jobs = self.by_target.get(target, ())
        if symbol is None:
            return jobs
        return tuple(j for j in jobs if j.symbol == symbol or j.is_cross_sectional)

    def __getitem__(self, key: str) -> Any:
        if key == "metadata":
            return self.metadata
        if key == "jobs":
            return self.jobs
        if key == "summary":
            return self.summary
        return self._doc[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc)

    def __len__(self) -> int:
        return len(self._doc)

    def to_dict(self) -> dict[str, Any]:
        """The plan as its file holds it (plain dicts and lists): `Plan.from_document(p.to_dict())` equals `p`."""
        return {
            **{k: thaw(v) for k, v in self._doc.items()},
            "metadata": thaw(self.metadata),
            "jobs": [j.to_dict() for j in self.jobs],
            "summary": thaw(self.summary),
        }

    def __repr__(self) -> str:
        return f"Plan(plan_id={self.plan_id!r}, jobs={len(self.jobs)}, source={self.source!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt without checking again: it was checked when it was first built
        return (_plan_unchecked, (self.to_dict(), self.source))


def _plan_unchecked(doc: dict[str, Any], source: Path | None) -> Plan:
    return Plan.from_document(doc, source, check=False)
