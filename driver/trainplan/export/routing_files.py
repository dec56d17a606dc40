"""The routing plan's files: routing_plan.json, .yaml, .md and the candidates snapshot.

Reads `plan_routes` and `routing_candidates`; writes into the staged `routing_plan/` folder.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from trainplan.export import sql as plan_sql
from trainplan.export.documents import split_around
from trainplan.export.escape import SQL_UNSAFE_CLASS, md_cell, yaml_quote
from trainplan.export.header import PlanHeader
from trainplan.export.stream import write_grouped
from trainplan.plan.files import CANDIDATES_SNAPSHOT
from trainplan.warehouse.database import scalar


@dataclass(frozen=True)
class RouteTarget:
    target: str
    cs_json: str | None
    cs_route: str | None
    cs_state: str | None
    cs_summary: str | None
    n_symbols: int


def route_targets(con: duckdb.DuckDBPyConnection) -> list[RouteTarget]:
    return [RouteTarget(*row) for row in con.execute(plan_sql.route_targets()).fetchall()]


def yaml_quote_macro(con: duckdb.DuckDBPyConnection, sql_text_columns: str, relation: str) -> str:
    """yaml_plain (to_json) unless some string of the relation needs the slower escaping macro yaml_str."""
    unsafe = scalar(
        con, f"select count(*) from {relation} where regexp_matches({sql_text_columns}, '{SQL_UNSAFE_CLASS}')"
    )
    return "yaml_str" if unsafe else "yaml_plain"


def write_routing_json(con: duckdb.DuckDBPyConnection, folder: Path, header: PlanHeader) -> tuple[Path, str, str]:
    """routing_plan.json with the placeholder plan_id; returns (path, header text, SHA-256 of the targets)."""
    before, after = split_around({"metadata": header.routing_metadata, "targets": None}, "targets")
    path = folder / "routing_plan.json"
    hasher = hashlib.sha256()
    targets = {t.target: t for t in route_targets(con)}
    first = next(iter(targets), None)

    def head(name: str) -> bytes:
        t = targets[name]
        text = (
            ("" if name == first else ",")
            + f'\n    {json.dumps(name, ensure_ascii=False)}: {{\n      "cross_sectional": {t.cs_json or plan_sql.NO_CS_JSON},'
            + '\n      "symbols": {'
        ).encode()
        return text

    def foot(name: str) -> bytes:
        return (b"\n      }" if targets[name].n_symbols else b"}") + b"\n    }"

    with path.open("xb") as fh:
        fh.write(before.encode())
        if targets:
            fh.write(b"{")
            write_grouped(fh, con, plan_sql.routes_json_rows(), list(targets), head, foot, skip_first=1, hasher=hasher)
            fh.write(b"\n  }")
        else:
            fh.write(b"{}")
        fh.write(after.encode())
    return path, before, hasher.hexdigest()


def write_candidates_snapshot(con: duckdb.DuckDBPyConnection, folder: Path, header: PlanHeader) -> None:
    """routing_candidates.parquet, the candidates the decisions were made on, sorted by target then symbol.

    Its sort holds every candidate in DuckDB's memory (about 0.9 GB at a million pairs), so the export writes it
    before it fetches the jobs' text: the sort's memory is then free again for the routing plan's temp table
    instead of adding to the jobs it would otherwise sit beside."""
    if header.has_candidates:
        target = str(folder / CANDIDATES_SNAPSHOT).replace("'", "''")
        con.execute(
            f"copy (select * from routing_candidates order by target, symbol nulls first) to '{target}' (format parquet)"
        )


def write_routing_rest(con: duckdb.DuckDBPyConnection, folder: Path, header: PlanHeader) -> None:
    """routing_plan.yaml and routing_plan.md (those dump_plan_as lists)."""
    if not {"yaml", "md"} & set(header.formats):
        return
    targets = {t.target: t for t in route_targets(con)}
    md = header.routing_metadata
    if "yaml" in header.formats:
        quote = yaml_quote_macro(con, "coalesce(symbol, '')", "plan_routes")

        def yaml_head(name: str) -> bytes:
            t = targets[name]
            empty = " {}" if not t.n_symbols else ""
            cs = t.cs_json or plan_sql.NO_CS_JSON
            return f"  {yaml_quote(name)}:\n    cross_sectional: {cs}\n    symbols:{empty}\n".encode()

        with (folder / "routing_plan.yaml").open("xb") as fh:
            fh.write(yaml.safe_dump({"metadata": md}, sort_keys=True, allow_unicode=True).encode())
            if targets:
                fh.write(b"targets:\n")
                write_grouped(fh, con, plan_sql.routes_yaml_rows(quote), list(targets), yaml_head, lambda _: b"")
            else:
                fh.write(b"targets: {}\n")
    if "md" in header.formats:
        _write_routing_markdown(con, folder / "routing_plan.md", header, targets)


def _write_routing_markdown(
    con: duckdb.DuckDBPyConnection, path: Path, header: PlanHeader, targets: dict[str, RouteTarget]
) -> None:
    md = header.routing_metadata
    dist = con.execute(
        "select route, count(*) from plan_routes where symbol is not null group by route order by count(*) desc, route"
    ).fetchall()
    per_target: dict[str, list[tuple[str, int]]] = {}
    for target, route, n in con.execute(plan_sql.route_target_distribution()).fetchall():
        per_target.setdefault(target, []).append((route, int(n)))
    lines = [
        "# Routing Plan",
        "",
        f"**Generated:** {md['generated_at']}",
        f"**Git Commit:** {md['git_commit']}",
        f"**Config Hash:** {md['config_hash']}",
        f"**Plan ID:** {md['plan_id']}",
        "",
        "## Overall Summary",
        "",
        f"- Total Targets: {len(targets)}",
        f"- Total Symbol Decisions: {sum(n for _, n in dist)}",
        "",
        *[f"- {route}: {n} symbols" for route, n in dist],
        "",
        "---",
        "",
        "## Summary by Target",
        "",
    ]

    def head(name: str) -> bytes:
        t = targets[name]
        enabled = "ENABLED" if t.cs_route == "ROUTE_CROSS_SECTIONAL" else "DISABLED"
        text = (
            f"\n### {md_cell(name)}\n\n**Cross-Sectional:** {enabled} ({t.cs_state or 'DISALLOWED'})\n"
            f"{md_cell(t.cs_summary or 'No CS metrics')}\n\n"
        )
        if t.n_symbols:
            text += "| Symbol | Route | CS State | Local State | Reasons |\n|--------|-------|----------|-------------|---------|\n"
        return text.encode()

    def foot(name: str) -> bytes:
        routes = per_target.get(name)
        if not routes:
            return b""
        return ("\n**Route distribution:**\n" + "".join(f"- {r}: {n}\n" for r, n in routes)).encode()

    with path.open("xb") as fh:
        fh.write("\n".join(lines).encode())
        write_grouped(fh, con, plan_sql.routes_markdown_rows(), list(targets), head, foot)
