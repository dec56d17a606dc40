"""The previous plan, read back from its files: the routes the report's "what changed" compares, and the lanes
(state, route, runs in that state) route hysteresis starts from (docs/decision-semantics.md, "Hysteresis").

Read member by member, one target (or one job) at a time, so a plan of a million pairs never becomes one Python
object (nor one DuckDB JSON value, which needs gigabytes). A plan that cannot be read is an error naming the file
and what was expected; it is never silently ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from trainplan.errors import TrainplanError
from trainplan.plan.files import (
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
            cs_route = "ROUTE_CROSS_SECTIONAL" if cs.get("route") == "ENABLED" else "ROUTE_BLOCKED"
            lanes.append(PreviousLane(target, None, cs.get("state"), cs_route, cs.get("runs_in_state")))
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


def read_previous_lanes(previous: Path) -> tuple[list[PreviousLane], str]:
    """The previous plan's lanes and the basis they were read from ("pairs": routing_plan.json; "jobs": the master
    plan, when the policy wrote no routing plan)."""
    files = plan_files(previous)
    path, basis, read = (
        (files.routing_plan, "pairs", _routing_plan_lanes)
        if files.routing_plan is not None
        else (files.master, "jobs", _job_lanes)
    )
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


def write_previous_lanes(previous: Path | None, out: Path) -> Path:
    """The previous plan's lanes as the parquet dbt reads (LANES_SCHEMA); no previous plan: no rows."""
    lanes = read_previous_lanes(previous)[0] if previous is not None else []
    columns = {
        "target": [lane.target for lane in lanes],
        "symbol": [lane.symbol for lane in lanes],
        "state": [lane.state for lane in lanes],
        "route": [lane.route for lane in lanes],
        "runs_in_state": [lane.runs_in_state for lane in lanes],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns, schema=LANES_SCHEMA), out)
    return out
