"""The lanes sidecar: the lanes a plan holds, as `lanes.parquet` beside its routing_plan/ and training_plan/ folders.

Reads `routing_decisions` (basis "pairs", when routing_plan.json is written) or the temp table `plan_jobs` (basis
"jobs"); writes the parquet with the SHA-256 of the file the same lanes were written into, so the next refresh
reads them without parsing that JSON (`trainplan.plan.previous.sidecar_lanes`, which checks the hash).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from trainplan.export import sql as plan_sql
from trainplan.plan.files import LANES_SIDECAR
from trainplan.plan.previous import cs_lane_route, sidecar_metadata

# What trainplan.plan.previous parses from each file, in the file's order: for routing_plan.json the CS entry of
# every target (its route mapped by previous.cs_lane_route; a target without a CS decision gets the placeholder
# entry plan_sql.NO_CS_JSON, read here as it is written there) and each symbol's entry; for the master plan each
# job's lane. runs_in_state is written into the JSON only while hysteresis is on.
_PAIRS = """
with
targets as (select distinct target from routing_decisions),
cs as (
    select
        target,
        cs_state as state,
        case when {cs_disabled} then 'ROUTE_BLOCKED' else 'ROUTE_CROSS_SECTIONAL' end as route,
        {cs_runs}::bigint as runs_in_state
    from routing_decisions
    where symbol is null
),
lanes as (
    select
        targets.target,
        null::varchar as symbol,
        -- the placeholder entry only where the target has no CS decision (the JSON writes NO_CS_JSON there); a CS
        -- decision with a null state stays null, as in its JSON entry, and the sidecar is then not used
        case when cs.target is null then '{no_cs_state}' else cs.state end as state,
        case when cs.target is null then '{no_cs_route}' else cs.route end as route,
        cs.runs_in_state
    from targets
    left join cs on targets.target = cs.target
    union all
    select target, symbol, local_state as state, route, {local_runs}::bigint as runs_in_state
    from routing_decisions
    where symbol is not null
)
select * from lanes order by target, symbol nulls first
"""

_JOBS = """
select
    target,
    symbol,
    case when symbol is null then cs_state else local_state end as state,
    route,
    null::bigint as runs_in_state
from plan_jobs
order by job_order
"""


def write_lanes_sidecar(
    con: duckdb.DuckDBPyConnection, staging: Path, source: Path, source_sha256: str, *, hysteresis: bool
) -> Path:
    """`staging/lanes.parquet` for the plan file `source` (routing_plan.json: basis "pairs"; else the master plan:
    "jobs") and `source_sha256`, the SHA-256 of its final bytes (plan_id patched in; `file_sha256`)."""
    if source.name == "routing_plan.json":
        basis = "pairs"
        runs = ("cs_runs_in_state", "local_runs_in_state") if hysteresis else ("null", "null")
        no_cs = json.loads(plan_sql.NO_CS_JSON)
        query = _PAIRS.format(
            cs_disabled=plan_sql.CS_ENTRY_DISABLED,
            cs_runs=runs[0],
            local_runs=runs[1],
            no_cs_state=no_cs["state"],
            no_cs_route=cs_lane_route(no_cs["route"]),
        )
    else:
        basis, query = "jobs", _JOBS
    meta = sidecar_metadata(basis, f"{source.parent.name}/{source.name}", source_sha256)
    kv = ", ".join(f"{key}: '{value}'" for key, value in meta.items())
    out = staging / LANES_SIDECAR
    target = str(out).replace("'", "''")
    con.execute(f"copy ({query}) to '{target}' (format parquet, kv_metadata {{{kv}}})")
    return out
