"""Section 5's numbers: the inputs the build set aside (`rejected_inputs`): file, problem, what was expected."""

from __future__ import annotations

import duckdb

from trainplan.report.limits import MAX_LIST_ROWS
from trainplan.report.sources import has_relation, select_list
from trainplan.report.tables import Table, table

_COLUMNS = {
    "source_file": "varchar",
    "source_row": "bigint",
    "artifact": "varchar",
    "target": "varchar",
    "symbol": "varchar",
    "problem": "varchar",
    "expected": "varchar",
}


def rejected_inputs(con: duckdb.DuckDBPyConnection) -> Table | None:
    """Every reject (the first MAX_LIST_ROWS), in the order `trainplan refresh --strict` lists them; None when the
    database has no rejected_inputs relation."""
    if not has_relation(con, "rejected_inputs"):
        return None
    total = con.execute("select count(*) from rejected_inputs").fetchone()[0]
    rows = con.execute(
        f"""
        select source_file, source_row, artifact, target, symbol, problem, expected
        from (select {select_list(con, "rejected_inputs", _COLUMNS)} from rejected_inputs)
        order by source_file, source_row nulls first, problem limit $n
        """,
        {"n": MAX_LIST_ROWS},
    ).fetchall()
    note = f"first {len(rows):,} of {total:,} (all of them: trainplan sql)" if total > len(rows) else None
    return table(
        "Rejected inputs", ["file", "row", "artifact", "target", "symbol", "problem", "expected"], rows, note=note
    )


def rejects_by_problem(con: duckdb.DuckDBPyConnection) -> Table | None:
    if not has_relation(con, "rejected_inputs"):
        return None
    rows = con.execute(
        f"""
        select artifact, problem, count(*) from (select {select_list(con, "rejected_inputs", _COLUMNS)}
        from rejected_inputs) group by all order by 3 desc, 1, 2
        """
    ).fetchall()
    return table("Rejected inputs per artifact and problem", ["artifact", "problem", "inputs"], rows)
