"""`plan_id`: the hash of a plan's content, defined once (the export writes it, `validate` checks it).

It covers the master plan's metadata except `generated_at`, `run_id`, `git_commit` and `plan_id`, its summary, the
bytes of its jobs as written, the bytes of the routing plan's entries as written (`routing_plan.json`; without that
file, a digest of the routing decisions), and which files the policy asked for. Equal relations and policy give an
equal plan_id, so it identifies what training will do.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trainplan.plan.files import MASTER, MIRROR, ROUTING_PLAN_JSON

VOLATILE_METADATA = frozenset({"generated_at", "run_id", "git_commit", "plan_id"})
ROUTING_SUFFIXES = ("json", "yaml", "md")
TRAINING_FILE_NAMES = {"YAML": "training_plan.yaml", "MARKDOWN": "training_plan.md"}
VIEW_FOLDERS = {"BY_TARGET": "by_target", "BY_SYMBOL": "by_symbol", "BY_TYPE": "by_type", "BY_ROUTE": "by_route"}
TRAINING_FILES = (*TRAINING_FILE_NAMES, *VIEW_FOLDERS)
JOBS_OPEN, JOBS_CLOSE = b'"jobs": [\n', b"\n  ]"
TARGETS_OPEN, TARGETS_CLOSE = b'"targets": {', b"\n  }"


def plan_id_of(
    metadata: Mapping[str, Any],
    summary: Mapping[str, Any],
    jobs_sha256: str,
    routes_sha256: str,
    formats: Sequence[str],
    training_files: Sequence[str],
) -> str:
    stable = {k: v for k, v in metadata.items() if k not in VOLATILE_METADATA}
    source = json.dumps(
        {
            "metadata": stable,
            "summary": summary,
            "jobs": jobs_sha256,
            "routes": routes_sha256,
            "formats": list(formats),
            "training_files": list(training_files),
        },
        sort_keys=True,
    )
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def _region_sha256(data: bytes, opening: bytes, closing: bytes) -> str | None:
    """SHA-256 of the bytes between `opening` and the last `closing` (an empty container hashes nothing)."""
    start = data.find(opening)
    if start < 0:
        return hashlib.sha256(b"").hexdigest()
    start += len(opening)
    end = data.rfind(closing)
    return hashlib.sha256(data[start:end]).hexdigest() if end >= start else None


def plan_id_problems(training_dir: Path, doc: Mapping[str, Any]) -> list[str]:
    """Whether the written plan's `plan_id` matches its content, and the mirror the master (empty when both do)."""
    problems: list[str] = []
    master = training_dir / MASTER
    if not master.is_file():
        return problems
    data = master.read_bytes()
    mirror = training_dir / MIRROR
    if mirror.is_file() and mirror.read_bytes() != data:
        problems.append(f"{mirror}: differs from {MASTER}; expected the same bytes")
    metadata, summary = doc.get("metadata") or {}, doc.get("summary") or {}
    claimed = metadata.get("plan_id")
    routing_dir = training_dir.parent / "routing_plan"
    present = [s for s in ROUTING_SUFFIXES if (routing_dir / f"routing_plan.{s}").is_file()]
    if "json" not in present:
        return problems  # the routing entries' digest was taken from the database: not checkable from files
    jobs_sha = _region_sha256(data, JOBS_OPEN, JOBS_CLOSE)
    routes_sha = _region_sha256((routing_dir / ROUTING_PLAN_JSON).read_bytes(), TARGETS_OPEN, TARGETS_CLOSE)
    training_files = [
        name
        for name in TRAINING_FILES
        if (training_dir / TRAINING_FILE_NAMES.get(name, VIEW_FOLDERS.get(name, ""))).exists()
    ]
    first = Path(str(metadata.get("routing_plan_path") or "")).suffix.lstrip(".")
    rest = [s for s in present if s != first]
    candidates = {plan_id_of(metadata, summary, str(jobs_sha), str(routes_sha), [first, *order], training_files)
                  for order in itertools.permutations(rest)}  # fmt: skip
    if claimed not in candidates:
        problems.append(f"{master}: metadata.plan_id {claimed!r} does not match the plan's content; expected a plan_id "
                        "computed from these files (was the plan edited after export?)")  # fmt: skip
    return problems
