"""Where the report's inputs come from: the plan's files and metadata (read from the head of a plan file of any
size), and the relations of the database read defensively (a missing column reads as null)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb

from trainplan.errors import TrainplanError
from trainplan.plan.previous import PlanFiles, plan_files  # noqa: F401  (re-exported: the report reads plans through them)
from trainplan.warehouse.database import relation_columns

HEAD_BYTES = 1 << 16


class ReportInputError(TrainplanError):
    """A plan or database the report cannot read."""


_SPACE = re.compile(r"\s*")


def _first_member(text: str) -> tuple[str, Any]:
    """The first key and value of the JSON object `text` starts (JSONDecodeError when `text` is cut too early)."""
    decoder = json.JSONDecoder()

    def expect(pos: int, char: str) -> int:
        pos = _SPACE.match(text, pos).end()
        if pos >= len(text):
            raise json.JSONDecodeError("cut short", text, pos)
        if text[pos] != char:
            raise ValueError(f"expected {char!r} at character {pos}")
        return _SPACE.match(text, pos + 1).end()

    key, pos = decoder.raw_decode(text, expect(0, "{"))
    value, _ = decoder.raw_decode(text, expect(pos, ":"))
    return key, value


def plan_metadata(master: Path) -> dict[str, Any]:
    """The plan's `metadata` object. The export writes it first, so only the head of a large plan is read."""
    size = master.stat().st_size
    length = HEAD_BYTES
    with master.open("rb") as handle:
        while True:
            handle.seek(0)
            head = handle.read(length).decode("utf-8", errors="ignore")
            try:
                key, value = _first_member(head)
            except json.JSONDecodeError:
                if length >= size:
                    raise ReportInputError(f"{master}: not a readable plan (expected a JSON object)") from None
                length *= 4
                continue
            except ValueError as err:
                raise ReportInputError(f"{master}: not a readable plan ({err})") from None
            break
    if key == "metadata" and isinstance(value, dict):
        return value
    doc = json.loads(master.read_text(encoding="utf-8"))  # metadata not first: a plan written by other tools
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    return meta if isinstance(meta, dict) else {}


def select_list(con: duckdb.DuckDBPyConnection, relation: str, wanted: dict[str, str]) -> str:
    """`col, ...` for the columns in `wanted` (name → DuckDB type), `null::type as col` for those the relation lacks."""
    have = relation_columns(con, relation)
    return ", ".join(name if name in have else f"null::{kind} as {name}" for name, kind in wanted.items())


def has_relation(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    return bool(relation_columns(con, relation))
