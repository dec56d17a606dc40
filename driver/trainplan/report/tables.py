"""The report's numbers: a `Table` is what a chart draws and what the page prints beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Table:
    """Rows of plain values under named columns; `note` says when the rows are a part of something larger."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str | None = None

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts (a chart's inline data)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def _plain(value: Any) -> Any:
    """DuckDB's DECIMAL as a float: charts and tables show numbers, not Decimal strings."""
    return float(value) if isinstance(value, Decimal) else value


def table(caption: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], note: str | None = None) -> Table:
    return Table(caption, tuple(columns), tuple(tuple(_plain(v) for v in r) for r in rows), note)


@dataclass(frozen=True)
class Figure:
    """One chart (a Vega-Lite spec, None for a table alone) with the tables that hold its numbers."""

    key: str
    title: str
    tables: tuple[Table, ...]
    chart: dict[str, Any] | None = None
    note: str | None = None  # what was aggregated or sampled, also shown on the chart


@dataclass(frozen=True)
class Section:
    """A numbered part of the page: a short text, its figures, or a message when there is nothing to show."""

    key: str
    title: str
    intro: str
    figures: tuple[Figure, ...] = field(default_factory=tuple)
    message: str | None = None
