"""A DuckDB file holding the relations `trainplan export` reads, with the contract columns, built directly in SQL.

Used by the export benchmark (a million jobs without running dbt) and by tests that need names or sizes the
sample run does not have. Every (target, symbol) pair gets a symbol job: routes cycle BOTH, SYMBOL_SPECIFIC,
EXPERIMENTAL_ONLY (with an EXPERIMENTAL symbol lane), and every target gets its CS job.
"""

from __future__ import annotations

from pathlib import Path

import duckdb


def _names(con: duckdb.DuckDBPyConnection, table: str, names: list[str] | int, prefix: str) -> None:
    if isinstance(names, int):
        con.execute(
            f"create table {table} as select range as i, '{prefix}' || lpad(range::varchar, 5, '0') as name "
            f"from range({names})"
        )
    else:
        con.execute(
            f"create table {table} as select generate_subscripts(?::varchar[], 1) - 1 as i, unnest(?::varchar[]) as name",
            [names, names],
        )


def build_plan_db(
    path: Path,
    targets: list[str] | int,
    symbols: list[str] | int,
    *,
    families: tuple[str, ...] = ("LightGBM", "XGBoost", "random_forest"),
    dump_plan_as: tuple[str, ...] = ("JSON", "YAML", "MARKDOWN"),
    training_plan_files: tuple[str, ...] = ("YAML", "MARKDOWN", "BY_TARGET", "BY_SYMBOL", "BY_TYPE", "BY_ROUTE"),
    policy_path: str = "routing_config.yaml",
) -> Path:
    con = duckdb.connect(str(path))
    try:
        _names(con, "bench_targets", targets, "target_")
        _names(con, "bench_symbols", symbols, "SYM")
        con.execute(
            "create table routing_policy as select ? as policy_path, 'strict' as semantics, "
            "?::varchar[] as model_families, ?::varchar[] as dump_plan_as, ?::varchar[] as training_plan_files",
            [policy_path, list(families), list(dump_plan_as), list(training_plan_files)],
        )
        con.execute("""
create table routing_candidates as
select t.name as target, null::varchar as symbol, 0.2 + t.i / 10000.0 as score, 20000::bigint as sample_size,
    'STABLE' as stability, 'SAFE' as leakage_status
from bench_targets as t
union all
select t.name, s.name, 0.1 + ((t.i * 7 + s.i) % 100) / 1000.0, (1000 + s.i)::bigint, 'UNKNOWN', 'SAFE'
from bench_targets as t cross join bench_symbols as s
""")
        con.execute("""
create table routing_decisions as
with pairs as (
    select target, symbol, score, sample_size, stability,
        hash(target, symbol) % 3 as k
    from routing_candidates where symbol is not null
)
select c.target, null::varchar as symbol, 'ROUTE_CROSS_SECTIONAL' as route, 'cs_strong' as rule,
    'STRONG' as cs_state, null::varchar as local_state, c.score as cs_score, null::double as local_score,
    0.05 as cs_threshold, null::double as local_threshold, c.score - 0.05 as cs_margin, null::double as local_margin,
    c.stability as cs_stability, null::varchar as local_stability, 'SAFE' as cs_leakage_status,
    null::varchar as local_leakage_status, c.sample_size as cs_sample_size, null::bigint as local_sample_size,
    ['CS: STRONG (score=' || printf('%.3f', c.score) || ', stability=STABLE)'] as reasons,
    'score=' || printf('%.3f', c.score) || ', stability=STABLE, sample_size=' || c.sample_size as cs_summary,
    'strict' as semantics
from routing_candidates as c where c.symbol is null
union all
select p.target, p.symbol,
    case p.k when 0 then 'ROUTE_BOTH' when 1 then 'ROUTE_SYMBOL_SPECIFIC' else 'ROUTE_EXPERIMENTAL_ONLY' end,
    case p.k when 0 then 'both_strong' when 1 then 'symbol_only' else 'experimental_only' end,
    case p.k when 1 then 'DISALLOWED' else 'STRONG' end,
    case p.k when 2 then 'EXPERIMENTAL' else 'STRONG' end,
    0.2, p.score, 0.05, 0.1, 0.15, p.score - 0.1, 'STABLE', p.stability, 'SAFE', 'SAFE', 20000, p.sample_size,
    ['CS: STRONG (score=0.200, stability=STABLE)',
     'LOCAL: ' || case p.k when 2 then 'EXPERIMENTAL' else 'STRONG' end || ' (score=' || printf('%.3f', p.score)
        || ', stability=' || p.stability || ')',
     case p.k when 0 then 'Both CS and local strong → ROUTE_BOTH' when 1 then 'CS not eligible for production, local only'
        else 'Experimental lane only' end],
    'score=0.200, stability=STABLE, sample_size=20000', 'strict'
from pairs as p
""")
        con.execute("""
create table training_jobs as
with jobs as (
    select 'cs_' || target as job_id, target, symbol, 'ROUTE_CROSS_SECTIONAL' as route,
        'cross_sectional' as training_type, 2 as priority, cs_sample_size as estimated_samples, cs_summary as reason,
        cs_state, null::varchar as local_state, null::boolean as needs_cs_ensemble
    from routing_decisions where symbol is null
    union all
    select 'sym_' || target || '_' || symbol, target, symbol, route, 'symbol_specific',
        case route when 'ROUTE_BOTH' then 3 when 'ROUTE_SYMBOL_SPECIFIC' then 2 else 1 end,
        local_sample_size, array_to_string(reasons, '; '), cs_state, local_state, route = 'ROUTE_BOTH'
    from routing_decisions where symbol is not null
)
select jobs.*, p.model_families, []::varchar[] as excluded_features,
    row_number() over (order by priority desc, target, symbol nulls first) as job_order
from jobs cross join routing_policy as p
""")
        con.execute("drop table bench_targets")
        con.execute("drop table bench_symbols")
    finally:
        con.close()
    return path
