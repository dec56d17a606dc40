"""`trainplan diff`: what changed between two training plans, job by job (keyed by job_id)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

# metadata keys that differ between two exports of the same inputs
VOLATILE_METADATA = ("generated_at", "run_id")


@dataclass(frozen=True)
class JobChange:
    job_id: str
    fields: dict[str, tuple[Any, Any]]
    a: dict[str, Any]
    b: dict[str, Any]


@dataclass(frozen=True)
class PlanDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[JobChange] = field(default_factory=list)
    metadata: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # job_id -> (times in A, times in B), for every id that appears more than once in either plan
    duplicates: dict[str, tuple[int, int]] = field(default_factory=dict)
    # B's summary.hysteresis (lanes held, flips prevented; written while route hysteresis is on), else None
    hysteresis: dict[str, Any] | None = None

    @property
    def differs(self) -> bool:
        """Whether the job lists differ as multisets (a duplicated job is a difference)."""
        return bool(self.added or self.removed or self.changed or self.duplicates)


def _job_list(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for j in plan.get("jobs") or [] if isinstance(j, dict)]


def _jobs(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(j.get("job_id")): j for j in _job_list(plan)}


def _duplicates(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[int, int]]:
    ca = Counter(str(j.get("job_id")) for j in _job_list(a))
    cb = Counter(str(j.get("job_id")) for j in _job_list(b))
    return {jid: (ca[jid], cb[jid]) for jid in sorted(ca.keys() | cb.keys()) if ca[jid] > 1 or cb[jid] > 1}


def diff_plans(a: dict[str, Any], b: dict[str, Any]) -> PlanDiff:
    """Jobs added, removed and changed (keyed by job_id), metadata changes, and job_ids listed more than once."""
    ja, jb = _jobs(a), _jobs(b)
    changed = []
    for jid in sorted(ja.keys() & jb.keys()):
        keys = list(dict.fromkeys([*ja[jid], *jb[jid]]))
        fields = {k: (ja[jid].get(k), jb[jid].get(k)) for k in keys if ja[jid].get(k) != jb[jid].get(k)}
        if fields:
            changed.append(JobChange(jid, fields, ja[jid], jb[jid]))
    ma, mb = a.get("metadata") or {}, b.get("metadata") or {}
    meta = {
        k: (ma.get(k), mb.get(k))
        for k in dict.fromkeys([*ma, *mb])
        if k not in VOLATILE_METADATA and ma.get(k) != mb.get(k)
    }
    return PlanDiff(
        added=[jb[j] for j in sorted(jb.keys() - ja.keys())],
        removed=[ja[j] for j in sorted(ja.keys() - jb.keys())],
        changed=changed,
        metadata=meta,
        duplicates=_duplicates(a, b),
        hysteresis=(b.get("summary") or {}).get("hysteresis"),
    )


def _short(value: Any, width: int = 60) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def print_diff(diff: PlanDiff, console: Console) -> None:
    if not diff.differs:
        console.print("plans are equal: same jobs")
    for title, jobs in (("added jobs", diff.added), ("removed jobs", diff.removed)):
        if jobs:
            table = Table(title=f"{title} ({len(jobs)})")
            for col in ("job_id", "route", "priority", "reason"):
                table.add_column(col)
            for job in jobs:
                table.add_row(
                    str(job.get("job_id")),
                    str(job.get("route")),
                    str(job.get("priority")),
                    _short(job.get("reason"), 90),
                )
            console.print(table)
    routes = [c for c in diff.changed if "route" in c.fields]
    if routes:
        table = Table(title=f"route changes ({len(routes)})")
        for col in ("job_id", "route A", "route B", "reason A", "reason B"):
            table.add_column(col)
        for c in routes:
            table.add_row(c.job_id, *map(str, c.fields["route"]), _short(c.a.get("reason")), _short(c.b.get("reason")))
        console.print(table)
    others = [c for c in diff.changed if "route" not in c.fields]
    if others:
        table = Table(title=f"other changed jobs ({len(others)})")
        for col in ("job_id", "field", "A", "B"):
            table.add_column(col)
        for c in others:
            for key, (va, vb) in c.fields.items():
                table.add_row(c.job_id, key, _short(va), _short(vb))
        console.print(table)
    if diff.duplicates:
        table = Table(title=f"job_ids listed more than once ({len(diff.duplicates)})")
        for col in ("job_id", "times in A", "times in B"):
            table.add_column(col)
        for jid, (na, nb) in diff.duplicates.items():
            table.add_row(jid, str(na), str(nb))
        console.print(table)
    if diff.metadata:
        table = Table(title="metadata differences")
        for col in ("key", "A", "B"):
            table.add_column(col)
        for key, (va, vb) in diff.metadata.items():
            table.add_row(key, _short(va), _short(vb))
        console.print(table)
    console.print(
        f"added {len(diff.added)}, removed {len(diff.removed)}, changed {len(diff.changed)} "
        f"(route changes {len(routes)}), duplicated job_ids {len(diff.duplicates)}"
    )
    if diff.hysteresis is not None:
        console.print(
            f"hysteresis in B: route flips prevented {diff.hysteresis.get('flips_prevented')}, "
            f"lanes held {diff.hysteresis.get('lanes_held')}"
        )
