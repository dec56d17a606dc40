"""Section 6's numbers (with `--previous`): per target the pairs whose route was gained, lost or switched since a
previous plan, and the CS lane before and after.

Reads the previous plan's routes (`sources.load_previous_routes`) and, on the same basis, the database's:
`routing_decisions` when the previous plan has a routing_plan.json (every pair), else `training_jobs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from trainplan.report.limits import MAX_LIST_ROWS
from trainplan.report.previous import PREVIOUS_ROUTES, load_previous_routes
from trainplan.report.tables import Table, table

BLOCKED = "ROUTE_BLOCKED"
CURRENT = {
    # symbol rows: the pair's route; the CS row (symbol null): the CS lane's state (as routing_plan.json has it)
    "pairs": "select target, symbol, coalesce(route, '') as route from routing_decisions where symbol is not null "
    "union all select target, null, cs_state from routing_decisions where symbol is null",
    # symbol jobs and the CS job, as the master plan lists them
    "jobs": "select target, symbol, route from training_jobs",
}
BASIS_TEXT = {
    "pairs": "every pair's route (the previous plan's routing_plan.json against routing_decisions)",
    "jobs": "the jobs' routes (the previous plan has no routing_plan.json: its jobs against training_jobs; a pair "
    "without a symbol job counts as having no route)",
}


@dataclass(frozen=True)
class Changes:
    per_target: Table
    transitions: Table
    pairs: Table
    basis: str
    previous_plan_id: str | None

    @property
    def any(self) -> bool:
        return any(row[1] or row[2] or row[3] for row in self.per_target.rows)


def _classified(basis: str) -> str:
    return f"""
        with cur as (select * from ({CURRENT[basis]}) where symbol is not null),
        prev as (select * from {PREVIOUS_ROUTES} where symbol is not null),
        joined as (
            select coalesce(cur.target, prev.target) as target, coalesce(cur.symbol, prev.symbol) as symbol,
                prev.route as before, cur.route as after
            from cur full outer join prev on cur.target = prev.target and cur.symbol = prev.symbol
        ),
        flagged as (
            select *,
                coalesce(before, '{BLOCKED}') not in ('{BLOCKED}', '') as trained_before,
                coalesce(after, '{BLOCKED}') not in ('{BLOCKED}', '') as trained_after
            from joined
        )
        select target, symbol, before, after,
            case
                when trained_after and not trained_before then 'gained'
                when trained_before and not trained_after then 'lost'
                when trained_before and trained_after and before <> after then 'switched'
                else 'unchanged'
            end as change
        from flagged
    """


def changes(con: duckdb.DuckDBPyConnection, previous: Path, previous_plan_id: str | None) -> Changes:
    basis = load_previous_routes(con, previous)
    classified = _classified(basis)
    per_target = con.execute(f"""
        with c as ({classified}),
        counts as (
            select target, count(*) filter (where change = 'gained') as gained,
                count(*) filter (where change = 'lost') as lost,
                count(*) filter (where change = 'switched') as switched,
                count(*) filter (where change = 'unchanged') as unchanged
            from c group by target
        ),
        cs_now as (select target, any_value(route) as route from ({CURRENT[basis]}) where symbol is null group by 1),
        cs_before as (select target, any_value(route) as route from {PREVIOUS_ROUTES} where symbol is null group by 1),
        targets as (
            select target from counts union select target from cs_now union select target from cs_before
        )
        select targets.target, coalesce(gained, 0), coalesce(lost, 0), coalesce(switched, 0),
            coalesce(unchanged, 0), cs_before.route, cs_now.route
        from targets left join counts using (target) left join cs_now using (target)
            left join cs_before using (target)
        order by targets.target
    """).fetchall()
    transitions = con.execute(f"""
        select coalesce(before, '(none)'), coalesce(after, '(none)'), change, count(*)
        from ({classified}) where change <> 'unchanged' group by all order by 4 desc, 1, 2
    """).fetchall()
    total = sum(r[1] + r[2] + r[3] for r in per_target)
    changed = con.execute(
        f"""
        select target, symbol, before, after, change from ({classified}) where change <> 'unchanged'
        order by target, symbol limit $n
        """,
        {"n": MAX_LIST_ROWS},
    ).fetchall()
    cs_label = "CS lane state" if basis == "pairs" else "CS job route"
    return Changes(
        per_target=table(
            "Route changes per target",
            ["target", "gained", "lost", "switched", "unchanged", f"{cs_label} before", f"{cs_label} now"],
            per_target,
            note=f"compared: {BASIS_TEXT[basis]}",
        ),
        transitions=table("Route transitions", ["before", "now", "change", "pairs"], transitions),
        pairs=table(
            "Pairs whose route changed",
            ["target", "symbol", "before", "now", "change"],
            changed,
            note=f"first {len(changed):,} of {total:,}" if total > len(changed) else None,
        ),
        basis=basis,
        previous_plan_id=previous_plan_id,
    )
