"""The inputs a refresh could not use: reading rejected_inputs, and failing on them under --strict."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from trainplan.errors import TrainplanError
from trainplan.warehouse.database import read_only


@dataclass(frozen=True)
class Reject:
    """One problem with one raw file (or row, or folder): what was wrong and what was expected."""

    source_file: str
    source_row: int | None
    artifact: str
    problem: str
    expected: str

    def describe(self) -> str:
        row = f" (row {self.source_row})" if self.source_row is not None else ""
        return f"{self.source_file}{row}: {self.problem}; expected {self.expected}"


class RejectedInputs(TrainplanError):
    """--strict and at least one input was rejected; the message lists every reject."""

    def __init__(self, rejects: list[Reject]) -> None:
        self.rejects = rejects
        lines = "\n".join(f"  - {r.describe()}" for r in rejects)
        super().__init__(
            f"{len(rejects)} rejected input(s) and --strict is set; the previous plan is unchanged:\n{lines}"
        )


def fetch_rejects(con: duckdb.DuckDBPyConnection) -> list[Reject]:
    """Every row of rejected_inputs, in a stable order."""
    rows = con.execute(
        "select source_file, source_row, artifact, problem, expected from rejected_inputs "
        "order by source_file, source_row nulls first, problem"
    ).fetchall()
    return [Reject(*row) for row in rows]


def fail_on_rejects(db_path: Path) -> None:
    """Raise RejectedInputs when the freshly built database lists any reject (the --strict check)."""
    with read_only(db_path) as con:
        rejects = fetch_rejects(con)
    if rejects:
        raise RejectedInputs(rejects)
