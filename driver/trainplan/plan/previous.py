"""The previous plan, read back from its files: the routes the report's "what changed" compares, and the lanes
(state, route, runs in that state) route hysteresis starts from (docs/decision-semantics.md, "Hysteresis").

Read member by member, one target (or one job) at a time, so a plan of a million pairs never becomes one Python
object (nor one DuckDB JSON value, which needs gigabytes). A plan that cannot be read is an error naming the file
and what was expected; it is never silently ignored.

Parsing a million pairs' JSON takes about 15 s, so the export also writes the lanes it wrote as a parquet beside the
plan's folders (`lanes.parquet`, with the basis and the SHA-256 of the file they were written into). It is used only
when that file still hashes to the same value and every lane passes the same checks; otherwise the JSON is parsed
(and its errors reported) as before. The sidecar is a cache of the JSON, never a second source of truth.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trainplan.errors import TrainplanError
from trainplan.plan.files import (
    LANES_SIDECAR,
    MASTER,
    MIRROR,
    ROUTING_PLAN_JSON,
    PlanNotFound,
    routing_plan_dir,
    training_plan_dir,
)

_SPACE = re.compile(r"\s*")
STATES = frozenset({"STRONG", "WEAK_BUT_OK", "EXPERIMENTAL", "DISALLOWED"})
EXPECTED = "expected a plan trainplan wrote (routing_plan.json or master_training_plan.json)"
# The previous plan's lanes as dbt reads them (models/staging/previous_plan): one row per CS lane (symbol null)
# and per pair.
LANES_SCHEMA = pa.schema(
    [
        ("target", pa.string()),
        ("symbol", pa.string()),
        ("state", pa.string()),
        ("route", pa.string()),
        ("runs_in_state", pa.int64()),
    ]
)


class PreviousPlanError(TrainplanError):
    """A previous plan that cannot be read."""


@dataclass(frozen=True)
class PlanFiles:
    """A written plan: its master file and, when the policy wrote one, its routing_plan.json."""

    master: Path
    routing_plan: Path | None

    @property
    def folder(self) -> Path:
        return self.master.parent


def plan_files(plan: Path) -> PlanFiles:
    """The plan's files for a plan file, a training_plan folder or the folder holding globals/."""
    folder = training_plan_dir(plan)
    master = plan if plan.is_file() else folder / MASTER if (folder / MASTER).is_file() else folder / MIRROR
    routing = routing_plan_dir(plan) / ROUTING_PLAN_JSON
    return PlanFiles(master=master, routing_plan=routing if routing.is_file() else None)


def published_plan(plan_root: Path) -> Path | None:
    """The plan published under `plan_root/globals/` (the default previous plan), or None before a first run."""
    try:
        files = plan_files(plan_root)
    except PlanNotFound:
        return None
    return plan_root if files.master.is_file() else None


class _Cursor:
    """Walks a JSON document member by member; `value()` decodes one whole value at the current position."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.decoder = json.JSONDecoder()

    def _peek(self) -> str:
        self.pos = _SPACE.match(self.text, self.pos).end()
        return self.text[self.pos : self.pos + 1]

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise ValueError(f"expected {char!r} at character {self.pos}")
        self.pos += 1

    def value(self) -> Any:
        self._peek()
        value, self.pos = self.decoder.raw_decode(self.text, self.pos)
        return value

    def _items(self, open_: str, close: str) -> Iterator[None]:
        self._expect(open_)
        if self._peek() == close:
            self.pos += 1
            return
        while True:
            yield
            if self._peek() == ",":
                self.pos += 1
                continue
            self._expect(close)
            return

    def members(self) -> Iterator[str]:
        """The keys of the object here; the caller reads each value (`value()`, `members()` or `elements()`)."""
        for _ in self._items("{", "}"):
            key = self.value()
            self._expect(":")
            yield key

    def elements(self) -> Iterator[None]:
        """One step per element of the array here; the caller reads each element."""
        yield from self._items("[", "]")


@dataclass(frozen=True)
class PreviousLane:
    """One lane of the previous plan: the CS lane of a target (symbol None) or a pair's symbol lane."""

    target: str
    symbol: str | None
    state: str | None  # the lane's signal state
    route: str | None  # the pair's route; for the CS lane ROUTE_CROSS_SECTIONAL or ROUTE_BLOCKED
    runs_in_state: int | None  # written while hysteresis is on


def cs_lane_route(entry_route: object) -> str:
    """The CS lane's route from the `route` of its routing_plan.json entry: ENABLED is ROUTE_CROSS_SECTIONAL,
    anything else (DISABLED) ROUTE_BLOCKED."""
    return "ROUTE_CROSS_SECTIONAL" if entry_route == "ENABLED" else "ROUTE_BLOCKED"


def _routing_plan_lanes(cursor: _Cursor) -> list[PreviousLane]:
    """routing_plan.json: per target its CS entry and each symbol's entry."""
    lanes: list[PreviousLane] = []
    for key in cursor.members():
        if key != "targets":
            cursor.value()
            continue
        for target in cursor.members():
            entry = cursor.value() or {}
            cs = entry.get("cross_sectional") or {}
            lanes.append(
                PreviousLane(target, None, cs.get("state"), cs_lane_route(cs.get("route")), cs.get("runs_in_state"))
            )
            lanes.extend(
                PreviousLane(target, symbol, (e or {}).get("local_state"), (e or {}).get("route"),
                             (e or {}).get("local_runs_in_state"))
                for symbol, e in (entry.get("symbols") or {}).items()
            )  # fmt: skip
    return lanes


def _job_lanes(cursor: _Cursor) -> list[PreviousLane]:
    """master_training_plan.json: each job's lane (the CS job's CS lane, a symbol job's symbol lane). A pair without
    a job (BLOCKED, or an experimental pair served by the CS job) is not in it."""
    lanes: list[PreviousLane] = []
    for key in cursor.members():
        if key != "jobs":
            cursor.value()
            continue
        for _ in cursor.elements():
            job = cursor.value() or {}
            meta = job.get("metadata") or {}
            symbol = job.get("symbol")
            state = meta.get("cs_state") if symbol is None else meta.get("local_state")
            lanes.append(PreviousLane(job.get("target"), symbol, state, job.get("route"), None))
    return lanes


def _basis(files: PlanFiles) -> tuple[Path, str]:
    """The file the lanes are read from and its basis: "pairs" (routing_plan.json) or "jobs" (the master plan, when
    the policy wrote no routing plan)."""
    return (files.routing_plan, "pairs") if files.routing_plan is not None else (files.master, "jobs")


def read_previous_lanes(previous: Path) -> tuple[list[PreviousLane], str]:
    """The previous plan's lanes, parsed from its JSON, and the basis they were read from ("pairs":
    routing_plan.json; "jobs": the master plan, when the policy wrote no routing plan)."""
    path, basis = _basis(plan_files(previous))
    read = _routing_plan_lanes if basis == "pairs" else _job_lanes
    try:
        lanes = read(_Cursor(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError, TypeError) as err:
        raise PreviousPlanError(f"{path}: cannot read the previous plan ({err}); {EXPECTED}") from err
    for lane in lanes:
        if not isinstance(lane.target, str) or (lane.symbol is not None and not isinstance(lane.symbol, str)):
            raise PreviousPlanError(f"{path}: a lane without a target name ({lane}); {EXPECTED}")
        if lane.state not in STATES:
            raise PreviousPlanError(
                f"{path}: lane ({lane.target}, {lane.symbol}): state {lane.state!r} is not one of "
                f"{', '.join(sorted(STATES))}; {EXPECTED}"
            )
        if lane.runs_in_state is not None and (not isinstance(lane.runs_in_state, int) or lane.runs_in_state < 1):
            raise PreviousPlanError(
                f"{path}: lane ({lane.target}, {lane.symbol}): runs_in_state {lane.runs_in_state!r} is not a whole "
                f"number >= 1; {EXPECTED}"
            )
    return lanes, basis


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 4 MB blocks (a million pairs' routing_plan.json: about 0.3 s)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def sidecar_metadata(basis: str, source: str, sha256: str) -> dict[str, str]:
    """The key-value metadata of a lanes sidecar: which file of the plan folder the lanes were written into."""
    return {"trainplan_lanes_basis": basis, "trainplan_lanes_source": source, "trainplan_lanes_sha256": sha256}


def sidecar_lanes(previous: Path) -> tuple[pa.Table, str] | None:
    """The lanes from the plan folder's `lanes.parquet`, when it describes the plan's JSON as it is now: same basis,
    same file, same SHA-256, and every lane valid. None otherwise (the caller parses the JSON)."""
    files = plan_files(previous)
    path, basis = _basis(files)
    folder = path.resolve().parent  # routing_plan/ or training_plan/ inside the published .plan-<token>/
    sidecar = folder.parent / LANES_SIDECAR
    try:
        meta = {k.decode(): v.decode() for k, v in (pq.read_schema(sidecar).metadata or {}).items()}
    except (OSError, ValueError, pa.ArrowException):
        return None  # no sidecar (a plan another tool wrote or copied without it), or not a parquet
    try:
        expected = sidecar_metadata(basis, f"{folder.name}/{path.name}", file_sha256(path))
    except OSError:
        return None  # the plan file itself cannot be read: the JSON reader reports it, naming the file
    if any(meta.get(key) != value for key, value in expected.items()):
        return None  # written for another file, or the file changed since
    try:
        table = pq.read_table(sidecar).select(LANES_SCHEMA.names).cast(LANES_SCHEMA)
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    return (table, basis) if _lanes_valid(table) else None


def _lanes_valid(table: pa.Table) -> bool:
    """The checks read_previous_lanes makes of each lane, over the whole table."""
    if table.num_rows == 0:
        return True
    targets_ok = pc.all(pc.is_valid(table["target"])).as_py()
    states_ok = pc.all(pc.fill_null(pc.is_in(table["state"], pa.array(sorted(STATES))), False)).as_py()
    runs_ok = pc.all(pc.fill_null(pc.greater_equal(table["runs_in_state"], 1), True)).as_py()
    return bool(targets_ok and states_ok and runs_ok)


def previous_lanes_table(previous: Path) -> tuple[pa.Table, str]:
    """The previous plan's lanes (LANES_SCHEMA) and their basis: from the verified sidecar, else from the JSON."""
    cached = sidecar_lanes(previous)
    if cached is not None:
        return cached
    lanes, basis = read_previous_lanes(previous)
    columns = {
        "target": [lane.target for lane in lanes],
        "symbol": [lane.symbol for lane in lanes],
        "state": [lane.state for lane in lanes],
        "route": [lane.route for lane in lanes],
        "runs_in_state": [lane.runs_in_state for lane in lanes],
    }
    return pa.table(columns, schema=LANES_SCHEMA), basis


def write_previous_lanes(previous: Path | None, out: Path) -> Path:
    """The previous plan's lanes as the parquet dbt reads (LANES_SCHEMA); no previous plan: no rows."""
    table = previous_lanes_table(previous)[0] if previous is not None else LANES_SCHEMA.empty_table()
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    # dbt runs next, beside this process: hand the lanes' buffers (about 0.1 GB at a million pairs) back to the
    # system instead of keeping them in Arrow's pool for the rest of the refresh
    del table
    pa.default_memory_pool().release_unused()
    return out
