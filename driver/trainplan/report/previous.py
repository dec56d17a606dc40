"""The previous plan's routes, for "what changed": read from its files one target (or one job) at a time, so a
plan of a million pairs never becomes one Python object (nor one DuckDB JSON value, which needs gigabytes)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from trainplan.report.sources import ReportInputError, plan_files

PREVIOUS_ROUTES = "report_previous_routes"
_SPACE = re.compile(r"\s*")


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


def _routing_plan_rows(cursor: _Cursor) -> list[tuple[str, str | None, str | None]]:
    """routing_plan.json: per target its CS lane state (symbol None) and each symbol's route."""
    rows: list[tuple[str, str | None, str | None]] = []
    for key in cursor.members():
        if key != "targets":
            cursor.value()
            continue
        for target in cursor.members():
            entry = cursor.value() or {}
            rows.append((target, None, (entry.get("cross_sectional") or {}).get("state")))
            rows.extend((target, symbol, (e or {}).get("route")) for symbol, e in (entry.get("symbols") or {}).items())
    return rows


def _job_rows(cursor: _Cursor) -> list[tuple[str, str | None, str | None]]:
    """master_training_plan.json: each job's target, symbol (None for the CS job) and route."""
    rows: list[tuple[str, str | None, str | None]] = []
    for key in cursor.members():
        if key != "jobs":
            cursor.value()
            continue
        for _ in cursor.elements():
            job = cursor.value() or {}
            rows.append((job.get("target"), job.get("symbol"), job.get("route")))
    return rows


def load_previous_routes(con: duckdb.DuckDBPyConnection, previous: Path) -> str:
    """Put the previous plan's routes in the temporary table `report_previous_routes(target, symbol, route)`.

    From its routing_plan.json (every pair, and the CS row with symbol null and the CS lane's state as route) when
    the policy wrote one; else from its jobs (symbol jobs, and the CS job). Returns the basis ("pairs" or "jobs").
    """
    files = plan_files(previous)
    path, basis, read = (
        (files.routing_plan, "pairs", _routing_plan_rows)
        if files.routing_plan is not None
        else (files.master, "jobs", _job_rows)
    )
    try:
        rows = read(_Cursor(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError) as err:
        raise ReportInputError(
            f"{path}: cannot read the previous plan ({err}); expected a plan trainplan wrote"
        ) from err
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    routes = pa.table(
        {name: pa.array(col, pa.string()) for name, col in zip(("target", "symbol", "route"), columns, strict=True)}
    )
    con.register("report_previous_routes_arrow", routes)
    con.execute(f"create or replace temp table {PREVIOUS_ROUTES} as select * from report_previous_routes_arrow")
    con.unregister("report_previous_routes_arrow")
    return basis
