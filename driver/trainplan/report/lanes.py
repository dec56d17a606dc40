"""Section 3's numbers: each lane's score against the threshold it was held to, the margin, and the experimental
cap's cut per target. Reads `routing_decisions` (threshold and margin columns as the routing models record them)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb

from trainplan.report.limits import MARGIN_BINS, NEAR_BOUNDARY, STRIP_MAX_POINTS
from trainplan.report.sources import select_list
from trainplan.report.tables import Table, table

CS_LANE = "cross-sectional"
SYMBOL_LANE = "symbol"

_DECISION_COLUMNS = {
    "target": "varchar",
    "symbol": "varchar",
    "cs_state": "varchar",
    "local_state": "varchar",
    "cs_score": "double",
    "local_score": "double",
    "cs_threshold": "double",
    "local_threshold": "double",
    "cs_margin": "double",
    "local_margin": "double",
    "task_class": "varchar",
    "experimental_rank": "bigint",
    "experimental_cap": "bigint",
    "n_symbols_with_metrics": "bigint",
}


def lanes_sql(con: duckdb.DuckDBPyConnection) -> str:
    """One row per lane decision: the CS lane once per target (its CS row), the symbol lane once per pair."""
    cols = select_list(con, "routing_decisions", _DECISION_COLUMNS)
    return f"""
        with decisions as (select {cols} from routing_decisions)
        select '{CS_LANE}' as lane, target, symbol, coalesce(task_class, 'all') as task_class, cs_state as state,
            cs_score as score, cs_threshold as threshold, cs_margin as margin
        from decisions where symbol is null
        union all
        select '{SYMBOL_LANE}', target, symbol, coalesce(task_class, 'all'), local_state, local_score,
            local_threshold, local_margin
        from decisions where symbol is not null
    """


def nice_step(span: float, bins: int) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) giving about `bins` bins over `span`."""
    raw = span / bins if span > 0 else NEAR_BOUNDARY
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


@dataclass(frozen=True)
class MarginHistogram:
    table: Table
    width: float


def margin_histogram(con: duckdb.DuckDBPyConnection) -> MarginHistogram:
    """Every lane decision counted by lane, state and margin bin; decisions without a margin (a hard block or no
    score) in a row of their own with empty bin bounds."""
    lanes = lanes_sql(con)
    low, high = con.execute(f"select min(margin), max(margin) from ({lanes})").fetchone()
    width = nice_step((high - low) if low is not None else 0.0, MARGIN_BINS)
    rows = con.execute(
        f"""
        select lane, state, floor(margin / $w) as bin, count(*) as decisions
        from ({lanes}) group by all order by lane, state, bin nulls first
        """,
        {"w": width},
    ).fetchall()
    out = [
        (lane, state, None if b is None else round(b * width, 10), None if b is None else round((b + 1) * width, 10), n)
        for lane, state, b, n in rows
    ]
    return MarginHistogram(
        table("Lane decisions per margin bin", ["lane", "state", "margin from", "margin to", "decisions"], out), width
    )


@dataclass(frozen=True)
class ScoreStrip:
    """The pairs the strip draws (all of them, or a sample), the thresholds per target and the cap's cut."""

    points: Table
    thresholds: Table
    caps: Table
    shown: int
    total: int

    @property
    def note(self) -> str | None:
        if self.shown == self.total:
            return None
        return (
            f"showing {self.shown:,} of {self.total:,} scored lane decisions: per target the nearest to a threshold "
            "and a fixed hash sample; the histogram counts them all"
        )


def score_strip(con: duckdb.DuckDBPyConnection) -> ScoreStrip:
    lanes = lanes_sql(con)
    total, n_groups = con.execute(
        f"select count(*), count(distinct (lane, target)) from ({lanes}) where score is not null"
    ).fetchone()
    per_group = max(2, STRIP_MAX_POINTS // max(1, n_groups))
    points = con.execute(
        f"""
        with scored as (select * from ({lanes}) where score is not null),
        ranked as (
            select *,
                row_number() over (partition by lane, target order by abs(margin) nulls last, symbol) as near_rank,
                row_number() over (partition by lane, target order by hash(symbol), symbol) as sample_rank
            from scored
        )
        select lane, task_class, target, symbol, state, score, threshold, margin,
            coalesce(abs(margin) <= $near, false) as near
        from ranked
        where near_rank <= $half or sample_rank <= $rest
        order by abs(margin) nulls last, lane, target, symbol
        """,
        {"near": NEAR_BOUNDARY, "half": per_group // 2, "rest": per_group - per_group // 2},
    ).fetchall()
    thresholds = con.execute(f"""
        select lane, task_class, target, threshold, string_agg(distinct state, ', ' order by state) as held_for,
            count(*) as decisions
        from ({lanes}) where threshold is not null
        group by all order by lane, target, threshold
    """).fetchall()
    cols = select_list(con, "routing_decisions", _DECISION_COLUMNS)
    caps = con.execute(f"""
        with decisions as (select {cols} from routing_decisions where symbol is not null)
        select coalesce(any_value(task_class), 'all') as task_class, target,
            max(n_symbols_with_metrics) as symbols_scored, max(experimental_cap) as cap,
            count(experimental_rank) as experimental,
            count(*) filter (where experimental_rank <= experimental_cap) as kept,
            count(*) filter (where experimental_rank > experimental_cap) as cut,
            min(local_score) filter (where experimental_rank <= experimental_cap) as lowest_kept_score,
            max(local_score) filter (where experimental_rank > experimental_cap) as best_cut_score
        from decisions group by target having count(experimental_rank) > 0 order by target
    """).fetchall()
    return ScoreStrip(
        points=table(
            "Lane decisions drawn (nearest to a threshold first)",
            ["lane", "task class", "target", "symbol", "state", "score", "threshold", "margin", "near boundary"],
            points,
        ),
        thresholds=table(
            "Thresholds held per lane and target",
            ["lane", "task class", "target", "threshold", "held for", "decisions"],
            thresholds,
        ),
        caps=table(
            "Experimental cap per target (symbol lane)",
            [
                "task class",
                "target",
                "symbols scored",
                "cap",
                "experimental",
                "kept",
                "cut",
                "lowest kept score",
                "best cut score",
            ],
            caps,
        ),
        shown=len(points),
        total=int(total),
    )
