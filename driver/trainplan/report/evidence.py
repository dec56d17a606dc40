"""Section 4's numbers: stability per scope (mean Jaccard and Kendall tau against the policy's classification
bands) and leakage per target with the file that set its status.

Reads `routing_candidates` (one scope per row: the CS row of a target, or a symbol), `routing_policy` and, when
the database has it, the intermediate relation `int_leakage__evidence` (one row per evidence file) to name the
file; without it the candidate's own cohort file and its `leakage_reason` stand in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

from trainplan.report.lanes import CS_LANE, SYMBOL_LANE
from trainplan.report.limits import MAX_LIST_ROWS, STABILITY_BIN, STABILITY_MAX_POINTS
from trainplan.report.sources import has_relation, select_list
from trainplan.report.tables import Table, table
from trainplan.warehouse.database import relation_columns

EVIDENCE = "int_leakage__evidence"
LEAKAGE_STATUSES = ("SAFE", "SUSPECT", "BLOCKED", "UNKNOWN")  # seeds/accepted_enum_values.csv, leakage_status
EVIDENCE_COLUMNS = {"target", "symbol", "source_file", "leakage_status", "severity", "evidence_source"}

_CANDIDATE_COLUMNS = {
    "target": "varchar",
    "symbol": "varchar",
    "stability": "varchar",
    "stability_reason": "varchar",
    "stability_mean_overlap": "double",
    "stability_std_overlap": "double",
    "stability_mean_tau": "double",
    "stability_std_tau": "double",
    "stability_n_snapshots": "bigint",
    "stability_n_comparisons": "bigint",
    "leakage_status": "varchar",
    "leakage_reason": "varchar",
    "source_file": "varchar",
}
BANDS = {
    "stability_stable_overlap_min": "STABLE: mean Jaccard at least",
    "stability_stable_tau_min": "STABLE: mean tau at least",
    "stability_drifting_overlap_min": "DRIFTING: mean Jaccard at least",
    "stability_drifting_tau_min": "DRIFTING: mean tau at least",
    "stability_max_std_overlap": "DIVERGED: std of Jaccard above",
    "stability_max_std_tau": "DIVERGED: std of tau above",
    "stability_top_k": "Jaccard over the top K features, K",
    "min_snapshots_for_stability": "UNKNOWN: fewer snapshots than",
}


def candidates_sql(con: duckdb.DuckDBPyConnection) -> str:
    cols = select_list(con, "routing_candidates", _CANDIDATE_COLUMNS)
    return f"""
        select case when symbol is null then '{CS_LANE}' else '{SYMBOL_LANE}' end as lane, *
        from (select {cols} from routing_candidates)
    """


def stability_classes(con: duckdb.DuckDBPyConnection) -> Table:
    """Scopes per lane, class and reason, with the mean of their mean Jaccard and mean tau."""
    rows = con.execute(f"""
        select lane, coalesce(stability, 'UNKNOWN'), coalesce(stability_reason, '—'), count(*) as scopes,
            avg(stability_mean_overlap), avg(stability_mean_tau)
        from ({candidates_sql(con)}) group by all order by 1, 2, 3
    """).fetchall()
    return table(
        "Stability scopes per lane and class",
        ["lane", "stability", "reason", "scopes", "average mean Jaccard", "average mean tau"],
        rows,
    )


def stability_bands(con: duckdb.DuckDBPyConnection) -> Table:
    """The policy's classification thresholds (those the database's routing_policy has)."""
    have = relation_columns(con, "routing_policy")
    keys = [k for k in BANDS if k in have]
    values = con.execute(f"select {', '.join(keys)} from routing_policy").fetchone() if keys else ()
    return table(
        "Classification bands (routing policy)",
        ["band", "policy key", "value"],
        [(BANDS[k], k, v) for k, v in zip(keys, values or (), strict=False)],
    )


@dataclass(frozen=True)
class StabilityScatter:
    """Scopes with a mean Jaccard and tau: one row each, or counted in bins when there are too many to draw."""

    table: Table
    binned: bool
    total: int

    @property
    def note(self) -> str | None:
        if not self.binned:
            return None
        return (
            f"{self.total:,} scopes with metrics, counted in {STABILITY_BIN} x {STABILITY_BIN} bins "
            "(square size = scopes, colour = their class)"
        )


def stability_scatter(con: duckdb.DuckDBPyConnection) -> StabilityScatter:
    measured = f"""
        select * from ({candidates_sql(con)})
        where stability_mean_overlap is not null and stability_mean_tau is not null
    """
    total = con.execute(f"select count(*) from ({measured})").fetchone()[0]
    if total <= STABILITY_MAX_POINTS:
        rows = con.execute(f"""
            select lane, target, symbol, stability, stability_mean_overlap, stability_std_overlap,
                stability_mean_tau, stability_std_tau, stability_n_snapshots, stability_n_comparisons
            from ({measured}) order by lane, target, symbol nulls first
        """).fetchall()
        columns = [
            "lane", "target", "symbol", "stability", "mean Jaccard", "std Jaccard", "mean tau", "std tau",
            "snapshots", "comparisons",
        ]  # fmt: skip
        return StabilityScatter(table("Stability per scope", columns, rows), binned=False, total=int(total))
    rows = con.execute(
        f"""
        select lane, stability, floor(stability_mean_overlap / $b) * $b as j, floor(stability_mean_tau / $b) * $b as t,
            count(*) as scopes
        from ({measured}) group by all order by lane, stability, j, t
        """,
        {"b": STABILITY_BIN},
    ).fetchall()
    out = [(lane, cls, round(j, 6), round(j + STABILITY_BIN, 6), round(t, 6), round(t + STABILITY_BIN, 6), n)
           for lane, cls, j, t, n in rows]  # fmt: skip
    columns = ["lane", "stability", "Jaccard from", "Jaccard to", "tau from", "tau to", "scopes"]
    return StabilityScatter(table("Stability scopes per bin", columns, out), binned=True, total=int(total))


@dataclass(frozen=True)
class Leakage:
    per_target: Table
    flagged: Table
    source: str  # which relation named the files


def _evidence_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Per scope (target, symbol) the files of its most severe evidence, and where they were read from."""
    if relation_columns(con, EVIDENCE) >= EVIDENCE_COLUMNS:
        return (
            f"""
            select target, symbol, string_agg(distinct source_file, '; ' order by source_file) as files
            from (
                select *, max(severity) over (partition by target, symbol) as worst from {EVIDENCE}
            ) where severity = worst group by all
            """,
            EVIDENCE,
        )
    return (
        f"select target, symbol, source_file as files from ({candidates_sql(con)})",
        "routing_candidates.source_file",
    )


def _relative(paths: list[str | None]) -> tuple[list[str | None], str | None]:
    """Paths relative to their common folder (shorter tables), and that folder."""
    flat = [p for value in paths if value for p in value.split("; ")]
    if not flat:
        return paths, None
    try:
        root = os.path.commonpath(flat)
    except ValueError:
        return paths, None
    if root in flat:  # a single file: keep its folder
        root = os.path.dirname(root)
    if len(root) <= 1:
        return paths, None
    cut = len(root) + 1
    return ["; ".join(p[cut:] for p in value.split("; ")) if value else value for value in paths], root


def leakage(con: duckdb.DuckDBPyConnection) -> Leakage:
    evidence, source = _evidence_sql(con)
    candidates = candidates_sql(con)
    rows = con.execute(f"""
        with c as ({candidates}), e as ({evidence}),
        cs as (
            select c.target, c.leakage_status, c.leakage_reason, e.files
            from c left join e on e.target = c.target and e.symbol is null where c.symbol is null
        ),
        sym as (
            select target,
                count(*) filter (where leakage_status = 'SAFE') as safe,
                count(*) filter (where leakage_status = 'SUSPECT') as suspect,
                count(*) filter (where leakage_status = 'BLOCKED') as blocked,
                count(*) filter (where coalesce(leakage_status, 'UNKNOWN') not in ('SAFE', 'SUSPECT', 'BLOCKED'))
                    as unknown
            from c where symbol is not null group by target
        ),
        targets as (select distinct target from c)
        select targets.target, coalesce(cs.leakage_status, 'no CS row'), cs.leakage_reason, cs.files,
            coalesce(sym.safe, 0), coalesce(sym.suspect, 0), coalesce(sym.blocked, 0), coalesce(sym.unknown, 0)
        from targets left join cs using (target) left join sym using (target)
        order by targets.target
    """).fetchall()
    flagged_total = con.execute(
        f"select count(*) from ({candidates}) where symbol is not null and coalesce(leakage_status, '') <> 'SAFE'"
    ).fetchone()[0]
    flagged = con.execute(
        f"""
        with c as ({candidates}), e as ({evidence})
        select c.target, c.symbol, c.leakage_status, c.leakage_reason, e.files
        from c left join e on e.target = c.target and e.symbol = c.symbol
        where c.symbol is not null and coalesce(c.leakage_status, '') <> 'SAFE'
        order by case c.leakage_status when 'BLOCKED' then 0 when 'SUSPECT' then 1 else 2 end, c.target, c.symbol
        limit $n
        """,
        {"n": MAX_LIST_ROWS},
    ).fetchall()
    files, root = _relative([r[3] for r in rows] + [r[4] for r in flagged])
    where = f"; files relative to {root}" if root else ""
    per_target = table(
        "Leakage per target",
        ["target", "CS status", "CS evidence", "CS evidence file", *(f"symbols {s}" for s in LEAKAGE_STATUSES)],
        [(*r[:3], f, *r[4:]) for r, f in zip(rows, files[: len(rows)], strict=True)],
        note=f"evidence files from {source}{where}",
    )
    shown = f"first {len(flagged):,} of {flagged_total:,}; " if flagged_total > len(flagged) else ""
    flagged_table = table(
        "Symbol scopes that are not SAFE",
        ["target", "symbol", "status", "evidence", "evidence file"],
        [(*r[:4], f) for r, f in zip(flagged, files[len(rows) :], strict=True)],
        note=f"{shown}evidence files from {source}{where}",
    )
    return Leakage(per_target, flagged_table, source)


def has_candidates(con: duckdb.DuckDBPyConnection) -> bool:
    return has_relation(con, "routing_candidates")
