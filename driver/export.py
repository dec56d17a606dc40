"""Writing the plan files from the dbt relations (the driver never re-decides a route).

`export_plan` writes, from `training_jobs`, `routing_decisions`, `routing_policy` and `routing_candidates`:

- `globals/routing_plan/routing_plan.{json,yaml,md}` (the formats listed in the policy's `dump_plan_as`;
  shared/reference §4) and `routing_candidates.parquet`, the snapshot of the candidates the decisions were made on
  (what `metadata.metrics_snapshot` names);
- `globals/training_plan/master_training_plan.json`, its mirror `training_plan.json`, `training_plan.yaml`,
  `training_plan.md` and the views `by_target/`, `by_symbol/`, `by_type/`, `by_route/` (§5.2-§5.4; view file
  names: `driver.plan_names`).

The documents are built by DuckDB (`driver.plan_sql`) and streamed to disk (`driver.plan_stream`); the master plan
is checked against the shipped JSON Schema before anything is published, and both folders are published together
(`driver.plan_store`). Model-family names are normalised by `driver.families`.

Each job's JSON is built once and fetched into Arrow in plan order (collected in parallel, a few chunks), and the
master plan and every derived view are cut from those bytes; a worker thread writes them while the main thread has
DuckDB build the routing plan, the YAML and the Markdown (DuckDB and file writes release the GIL, so the two overlap
on two cores). The policy's `dump_plan_as` and `training_plan_files` choose which files besides the master plan
and its mirror are written.

JSON layout: `metadata` and `summary` are indented by 2; each job (and each routing entry) is one line. Apart from
`generated_at` and `run_id`, the same relations and policy give byte-identical files. `plan_id` (also in the
routing plan) is a hash of everything else except `git_commit`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from driver import plan_sql
from driver.families import normalise_families
from driver.plan_names import view_file_name
from driver.plan_schema import SCHEMA_VERSION, schema_errors
from driver.plan_store import staged_plan
from driver.plan_stream import (
    array_bytes,
    fetch_table,
    partition_batches,
    run_slices,
    write_array,
    write_grouped,
    write_partitioned,
    write_rows,
)

GLOBALS = Path("globals")
ROUTING_PLAN = "routing_plan"
TRAINING_PLAN = "training_plan"
TRAINING_PLAN_DIR = GLOBALS / TRAINING_PLAN
ROUTING_PLAN_DIR = GLOBALS / ROUTING_PLAN
MASTER = "master_training_plan.json"
CANDIDATES_SNAPSHOT = "routing_candidates.parquet"
FORMAT_SUFFIX = {"JSON": "json", "YAML": "yaml", "MARKDOWN": "md", "MD": "md"}
# The policy's training_plan_files: the training plan's files besides the master and its mirror (always written).
TRAINING_PLAN_FILES = ("YAML", "MARKDOWN", *(view.upper() for view in plan_sql.VIEW_KEYS))


# plan_id is known only once the jobs are written: files carry this placeholder, patched in place (same length)
PLAN_ID_PLACEHOLDER = "0" * 16


class PlanInvalid(ValueError):
    """The plan built from the database fails its schema or a semantic check; nothing was published."""


@dataclass(frozen=True)
class ExportResult:
    master_plan: Path
    routing_plan_dir: Path
    plan_id: str
    total_jobs: int


def config_hash(policy_path: Path) -> str:
    """First 8 hex characters of SHA-256 over the policy file's raw bytes (reference §9)."""
    try:
        return hashlib.sha256(policy_path.read_bytes()).hexdigest()[:8]
    except OSError:
        return "unknown"


def git_commit(cwd: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()[:12] or "unknown"


def relation_columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """Column names of a table or view of the main schema (empty if it does not exist)."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = 'main' and table_name = ?", [name]
    ).fetchall()
    return {r[0] for r in rows}


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()[0]


def _policy(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    cur = con.execute("select * from routing_policy")
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def inputs_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """Hash of the raw files the build read (`plan_input_files`: path relative to the run, SHA-256 of the bytes)."""
    if not {"path", "sha256"} <= relation_columns(con, "plan_input_files"):
        return None
    listing = _scalar(
        con, "select coalesce(string_agg(path || chr(9) || sha256, chr(10) order by path), '') from plan_input_files"
    )
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()[:16]


def rejected_inputs(con: duckdb.DuckDBPyConnection) -> int | None:
    """Rows of `rejected_inputs` (raw inputs the build reported and set aside); None where the relation is absent."""
    if not relation_columns(con, "rejected_inputs"):
        return None
    return int(_scalar(con, "select count(*) from rejected_inputs"))


def _prepare(con: duckdb.DuckDBPyConnection) -> str:
    """The temp table plan_jobs; returns the SQL of a job's JSON object over plan_jobs."""
    con.execute("set preserve_insertion_order = true")  # plan_jobs and plan_routes are scanned in stored order
    con.execute("set enable_progress_bar = false")
    con.execute("set arrow_large_buffer_size = true")  # large_string: no 2 GB limit on a chunk of the jobs' text
    for sql in plan_sql.macros_sql():
        con.execute(sql)
    con.execute("create or replace temp table family_map (raw varchar[], normalized varchar[])")
    for (raw,) in con.execute("select distinct model_families from training_jobs").fetchall():
        con.execute("insert into family_map values (?, ?)", [raw, normalise_families(raw)])
    con.execute(
        plan_sql.plan_jobs_sql(relation_columns(con, "training_jobs"), relation_columns(con, "routing_decisions"))
    )
    return plan_sql.job_json_sql(relation_columns(con, "training_jobs"))


def _prepare_routes(con: duckdb.DuckDBPyConnection, formats: list[str]) -> None:
    """The temp table plan_routes, when dump_plan_as lists a format (with the Markdown rows when it lists MARKDOWN).
    Built once the jobs are fetched: the worker thread then writes the training plan meanwhile."""
    if formats:
        con.execute(plan_sql.plan_routes_sql(relation_columns(con, "routing_decisions"), markdown="md" in formats))


def _counts(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, int]:
    return {k: int(n) for k, n in con.execute(plan_sql.jobs_summary(key)).fetchall()}


def build_summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    by_type = _counts(con, "training_type")
    return {
        "by_route": _counts(con, "route"),
        "by_type": by_type,
        "by_priority": _counts(con, "priority"),
        "total_cs_jobs": by_type.get("cross_sectional", 0),
        "total_symbol_jobs": by_type.get("symbol_specific", 0),
        "total_blocked": by_type.get("blocked", 0),
    }


def _formats(policy: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for fmt in policy.get("dump_plan_as") or []:
        suffix = FORMAT_SUFFIX.get(str(fmt).upper())
        if suffix is None:
            raise PlanInvalid(f"routing policy dump_plan_as: unknown format {fmt!r} (expected JSON, YAML or MARKDOWN)")
        if suffix not in out:
            out.append(suffix)
    return out


def _training_files(policy: dict[str, Any]) -> tuple[str, ...]:
    """The policy's training_plan_files (all of them where the policy relation predates the key)."""
    if "training_plan_files" not in policy:
        return TRAINING_PLAN_FILES
    listed = [str(name).upper() for name in policy["training_plan_files"] or []]
    unknown = [name for name in listed if name not in TRAINING_PLAN_FILES]
    if unknown:
        raise PlanInvalid(
            f"routing policy training_plan_files: unknown file {unknown[0]!r} (expected some of "
            f"{', '.join(TRAINING_PLAN_FILES)})"
        )
    return tuple(name for name in TRAINING_PLAN_FILES if name in listed)


@dataclass(frozen=True)
class PlanHeader:
    """Everything of the two plans that is not a job or a routing entry."""

    training_metadata: dict[str, Any]
    routing_metadata: dict[str, Any]
    summary: dict[str, Any]
    formats: list[str]
    training_files: tuple[str, ...]
    has_candidates: bool

    def views(self) -> list[str]:
        """The derived-view folders to write (by_target, ...), in the reference's order."""
        return [view for view in plan_sql.VIEW_KEYS if view.upper() in self.training_files]


def build_header(
    con: duckdb.DuckDBPyConnection, *, policy_path: Path | None, project: Path, now: datetime
) -> PlanHeader:
    policy = _policy(con)
    formats = _formats(policy)
    training_files = _training_files(policy)
    policy_file = policy_path or Path(str(policy.get("policy_path") or ""))
    requested = list(policy.get("model_families") or [])
    normalised = normalise_families(requested)
    has_candidates = bool(relation_columns(con, "routing_candidates"))
    snapshot = (ROUTING_PLAN_DIR / CANDIDATES_SNAPSHOT).as_posix() if has_candidates else None
    routing_plan_path = (ROUTING_PLAN_DIR / f"routing_plan.{formats[0]}").as_posix() if formats else None
    summary = build_summary(con)
    common = {
        "schema_version": SCHEMA_VERSION,
        "plan_id": PLAN_ID_PLACEHOLDER,
        "semantics": policy.get("semantics") or "strict",
        "inputs_fingerprint": inputs_fingerprint(con),
        "rejected_inputs": rejected_inputs(con),
    }
    training = {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
        "run_id": now.strftime("%Y%m%d_%H%M%S"),
        "git_commit": git_commit(project),
        "config_hash": config_hash(policy_file),
        "routing_plan_path": routing_plan_path,
        "metrics_snapshot": snapshot,
        "total_jobs": int(_scalar(con, "select count(*) from plan_jobs")),
        "model_families_requested": requested or None,
        "model_families_normalized": normalised,
        "model_families": normalised,
        **common,
    }
    routing = {
        "generated_at": training["generated_at"],
        "git_commit": training["git_commit"],
        "config_hash": training["config_hash"],
        "metrics_snapshot": snapshot,
        "view": None,
        **common,
    }
    return PlanHeader(training, routing, summary, formats, training_files, has_candidates)


def plan_id_of(header: PlanHeader, jobs_sha256: str, routes_sha256: str) -> str:
    """Hash of the plan's content: the jobs and routing entries as written, the summary and the metadata without
    generated_at, run_id, git_commit and plan_id. Equal relations and policy give an equal plan_id."""
    volatile = {"generated_at", "run_id", "git_commit", "plan_id"}
    stable = {k: v for k, v in header.training_metadata.items() if k not in volatile}
    source = json.dumps(
        {
            "metadata": stable,
            "summary": header.summary,
            "jobs": jobs_sha256,
            "routes": routes_sha256,
            "formats": header.formats,
            "training_files": header.training_files,
        },
        sort_keys=True,
    )
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def check_plan(con: duckdb.DuckDBPyConnection, header: PlanHeader, job_json: str) -> None:
    """Schema (envelope + one job per schema class) and unique job ids; raises PlanInvalid listing every problem."""
    reps = [json.loads(r[0]) for r in con.execute(plan_sql.job_schema_representatives(job_json)).fetchall()]
    problems = schema_errors({"metadata": header.training_metadata, "jobs": reps, "summary": header.summary})
    dupes = con.execute(
        "select job_id, count(*) from plan_jobs group by job_id having count(*) > 1 order by job_id limit 20"
    ).fetchall()
    problems += [f"duplicate job_id {job_id!r} ({n} jobs)" for job_id, n in dupes]
    if problems:
        raise PlanInvalid("the plan fails its checks; nothing was written:\n  " + "\n  ".join(problems))


# ---------------------------------------------------------------- writers


def _around(doc: dict[str, Any], key: str) -> tuple[str, str]:
    """The JSON text (indent 2) of `doc` before and after the value of `key`, which is streamed separately."""
    marker = "\x00@@STREAM@@\x00"
    text = json.dumps({**doc, key: marker}, indent=2, ensure_ascii=False)
    before, after = text.split(json.dumps(marker))
    return before, after + "\n"


def _patch_plan_id(path: Path, before: str, plan_id: str) -> None:
    """Replace the placeholder plan_id in the header (the text written before the streamed part)."""
    needle = f'"plan_id": "{PLAN_ID_PLACEHOLDER}"'.encode()
    offset = before.encode().index(needle) + len('"plan_id": "')
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(plan_id.encode())


def fetch_jobs(con: duckdb.DuckDBPyConnection, job_json: str, views: list[str]) -> pa.Table:
    """Every job's master-plan line and the keys of `views` (`plan_sql.jobs_text_rows`), in plan order."""
    return fetch_table(con, plan_sql.jobs_text_rows(job_json, views))


def write_master(folder: Path, header: PlanHeader, jobs: pa.Table) -> tuple[Path, str, str]:
    """master_training_plan.json with the placeholder plan_id; returns (path, header text, SHA-256 of the jobs)."""
    md, summary = header.training_metadata, header.summary
    before, after = _around({"metadata": md, "jobs": None, "summary": summary}, "jobs")
    master = folder / MASTER
    hasher = hashlib.sha256()
    with master.open("xb") as fh:
        fh.write(before.encode())
        if md["total_jobs"]:
            fh.write(b"[\n")
            write_array(fh, jobs.column("line"), skip_first=2, hasher=hasher)
            fh.write(b"\n  ]")
        else:
            fh.write(b"[]")
        fh.write(after.encode())
    return master, before, hasher.hexdigest()


def _mirror(src: Path, dst: Path) -> None:
    """The mirror is a hard link to the master (same bytes, no second write); a copy where links are refused.
    Published plan files are never modified in place, so the two names cannot drift apart."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def write_training_rest(con: duckdb.DuckDBPyConnection, folder: Path, header: PlanHeader, jobs: pa.Table) -> None:
    """The mirror, and the YAML and Markdown training_plan_files lists, once the master carries the final plan_id
    (the views are written by `write_views`)."""
    _mirror(folder / MASTER, folder / "training_plan.json")
    if "YAML" in header.training_files:
        _write_training_yaml(con, folder / "training_plan.yaml", header, _needs_yaml_escape(jobs.column("line")))
    if "MARKDOWN" in header.training_files:
        _write_training_markdown(con, folder / "training_plan.md", header)


def _view_header(key: str, value: str) -> bytes:
    return ("{\n  " + json.dumps(key) + ": " + json.dumps(value, ensure_ascii=False) + ',\n  "jobs": [\n').encode()


VIEW_FOOTER = b"\n  ]\n}\n"
# a view whose runs of equal keys average at least this many jobs is written run by run, without a copy
RUN_ROWS = 64


def write_views(folder: Path, jobs: pa.Table, views: list[str], cancelled: threading.Event | None = None) -> None:
    """The derived views listed (by_target/, by_symbol/, by_type/, by_route/): one file per value of the view's
    key, its jobs in plan order, cut from the jobs' text (no query, no formatting). A view whose key comes in long
    runs in plan order (target, type, route) writes the runs' bytes where they are (`run_slices`); a fragmented
    one (symbol) regroups the text with Arrow `take` (`partition_batches`)."""
    lines: pa.Array | None = None
    for view in views:
        key = plan_sql.VIEW_KEYS[view]
        (folder / view).mkdir()

        def path_for(value: str, view: str = view, key: str = key) -> Path:
            stem = value.removeprefix("ROUTE_").lower() if key == "route" else value
            return folder / view / view_file_name(stem)

        def header_for(value: str, key: str = key) -> bytes:
            return _view_header(key, value)

        batches = run_slices(jobs.select([key, "line"]), max_runs=max(jobs.num_rows // RUN_ROWS, 1))
        if batches is None:
            if lines is None:  # one array: take() then never concatenates the chunks for each batch
                lines = jobs.column("line").combine_chunks()
            batches = partition_batches(jobs.column(key).combine_chunks(), lines)
        write_partitioned(
            batches,
            path_for,
            header_for,
            VIEW_FOOTER,
            skip_first=2,
            cancelled=cancelled.is_set if cancelled is not None else lambda: False,
        )


def _yaml_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The reference's YAML keeps by_priority keys as integers."""
    return {**summary, "by_priority": {int(k): v for k, v in summary["by_priority"].items()}}


def _write_training_yaml(con: duckdb.DuckDBPyConnection, path: Path, header: PlanHeader, escape: bool) -> None:
    tail = yaml.safe_dump(
        {"metadata": header.training_metadata, "summary": _yaml_summary(header.summary)},
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
    )
    with path.open("xb") as fh:
        if header.training_metadata["total_jobs"]:
            fh.write(b"jobs:\n")
            metadata = plan_sql.metadata_json_sql(relation_columns(con, "training_jobs"))
            write_rows(fh, con, plan_sql.jobs_yaml_rows("yaml_str" if escape else "yaml_plain", metadata))
        else:
            fh.write(b"jobs: []\n")
        fh.write(tail.encode())


def _write_training_markdown(con: duckdb.DuckDBPyConnection, path: Path, header: PlanHeader) -> None:
    md, summary = header.training_metadata, header.summary
    lines = [
        "# Training Plan",
        "",
        f"**Generated:** {md['generated_at']}",
        f"**Total Jobs:** {md['total_jobs']}",
        f"**Model Families:** {', '.join(md['model_families'])}",
        f"**Plan ID:** {md['plan_id']}",
        "",
        "## Summary",
        "",
        f"- **Cross-Sectional Jobs:** {summary['total_cs_jobs']}",
        f"- **Symbol-Specific Jobs:** {summary['total_symbol_jobs']}",
        f"- **Blocked Jobs:** {summary['total_blocked']}",
        "",
        "### By Route",
        "",
        *[f"- {route}: {n}" for route, n in sorted(summary["by_route"].items())],
        "",
        "### By Priority",
        "",
        *[f"- Priority {p}: {n}" for p, n in sorted(summary["by_priority"].items(), key=lambda kv: -int(kv[0]))],
        "",
        "## Training Jobs",
        "",
    ]
    targets = {t: (bool(has_cs), int(n)) for t, has_cs, n in con.execute(plan_sql.job_targets()).fetchall()}

    def head(name: str) -> bytes:
        has_cs, n_symbol_jobs = targets[name]
        table = plan_sql.MD_JOBS_TABLE_HEAD if n_symbol_jobs and not has_cs else ""
        return f"\n### {_md_cell(name)}\n\n{table}".encode()

    with path.open("xb") as fh:
        fh.write("\n".join(lines).encode())
        write_grouped(fh, con, plan_sql.jobs_markdown_rows(), list(targets), head, lambda _: b"")


@dataclass(frozen=True)
class RouteTarget:
    target: str
    cs_json: str | None
    cs_route: str | None
    cs_state: str | None
    cs_summary: str | None
    n_symbols: int


def _route_targets(con: duckdb.DuckDBPyConnection) -> list[RouteTarget]:
    return [RouteTarget(*row) for row in con.execute(plan_sql.route_targets()).fetchall()]


_YAML_UNSAFE = re.compile("[\x7f-\x9f]")
# the same characters in UTF-8 (DEL; C1 controls are U+0080-U+009F, encoded C2 80 - C2 9F), as two patterns: each
# starts with a literal byte, which the regex engine finds with a fast scan (an alternation is ten times slower)
_YAML_UNSAFE_UTF8 = (re.compile(b"\x7f"), re.compile(b"\xc2[\x80-\x9f]"))


def _needs_yaml_escape(lines: pa.Array | pa.ChunkedArray) -> bool:
    """Whether some job string holds a character YAML 1.1 readers reject raw. The jobs' JSON holds every string
    the YAML quotes, as the same to_json text, so a byte scan of it decides (no query over a million rows)."""
    return any(pattern.search(data) is not None for data in array_bytes(lines) for pattern in _YAML_UNSAFE_UTF8)


def yaml_quote(value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax; C1 controls escaped, which YAML 1.1 readers reject raw)."""
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def _yaml_quote_macro(con: duckdb.DuckDBPyConnection, sql_text_columns: str, relation: str) -> str:
    """yaml_plain (to_json) unless some string of the relation needs the slower escaping macro yaml_str."""
    unsafe = _scalar(
        con, f"select count(*) from {relation} where regexp_matches({sql_text_columns}, '[\\x{{7f}}-\\x{{9f}}]')"
    )
    return "yaml_str" if unsafe else "yaml_plain"


def write_routing_json(con: duckdb.DuckDBPyConnection, folder: Path, header: PlanHeader) -> tuple[Path, str, str]:
    """routing_plan.json with the placeholder plan_id; returns (path, header text, SHA-256 of the targets)."""
    before, after = _around({"metadata": header.routing_metadata, "targets": None}, "targets")
    path = folder / "routing_plan.json"
    hasher = hashlib.sha256()
    targets = {t.target: t for t in _route_targets(con)}
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


def write_routing_rest(con: duckdb.DuckDBPyConnection, folder: Path, header: PlanHeader) -> None:
    """The candidates snapshot, routing_plan.yaml and routing_plan.md (those dump_plan_as lists)."""
    if header.has_candidates:
        target = str(folder / CANDIDATES_SNAPSHOT).replace("'", "''")
        con.execute(
            f"copy (select * from routing_candidates order by target, symbol nulls first) to '{target}' (format parquet)"
        )
    if not {"yaml", "md"} & set(header.formats):
        return
    targets = {t.target: t for t in _route_targets(con)}
    md = header.routing_metadata
    if "yaml" in header.formats:
        quote = _yaml_quote_macro(con, "coalesce(symbol, '')", "plan_routes")

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


def _md_cell(value: str | None) -> str:
    return (value or "").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


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
            f"\n### {_md_cell(name)}\n\n**Cross-Sectional:** {enabled} ({t.cs_state or 'DISALLOWED'})\n"
            f"{_md_cell(t.cs_summary or 'No CS metrics')}\n\n"
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


# ---------------------------------------------------------------- entry points


def export_plan(
    con: duckdb.DuckDBPyConnection,
    *,
    plan_root: Path,
    project: Path,
    policy_path: Path | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Build, check and publish both plans under `plan_root/globals/`; the previous plan stays whole on failure."""
    job_json = _prepare(con)
    header = build_header(con, policy_path=policy_path, project=project, now=now or datetime.now(UTC))
    check_plan(con, header, job_json)
    total_jobs = header.training_metadata["total_jobs"]
    views = header.views() if total_jobs else []
    jobs = fetch_jobs(con, job_json, views)
    failed = threading.Event()
    with (
        staged_plan(plan_root / GLOBALS, (ROUTING_PLAN, TRAINING_PLAN)) as staging,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan-views") as worker,
    ):
        training = staging / TRAINING_PLAN
        try:
            # the worker writes the files cut from the jobs' text; the main thread runs the DuckDB queries
            master_done = worker.submit(write_master, training, header, jobs)
            views_done = worker.submit(write_views, training, jobs, views, failed) if views else None
            _prepare_routes(con, header.formats)
            routing_json = None
            if "json" in header.formats:
                routing_json = write_routing_json(con, staging / ROUTING_PLAN, header)
                routes_sha256 = routing_json[2]
            elif header.formats:
                routes_sha256 = _scalar(con, plan_sql.routes_digest())
            else:
                routes_sha256 = ""  # no routing plan is written
            master, master_before, jobs_sha256 = master_done.result()
            plan_id = plan_id_of(header, jobs_sha256, routes_sha256)
            header.training_metadata["plan_id"] = header.routing_metadata["plan_id"] = plan_id
            _patch_plan_id(master, master_before, plan_id)
            if routing_json is not None:
                _patch_plan_id(routing_json[0], routing_json[1], plan_id)
            write_routing_rest(con, staging / ROUTING_PLAN, header)
            write_training_rest(con, training, header, jobs)
            if views_done is not None:
                views_done.result()
        except BaseException:
            failed.set()  # the worker stops at its next batch; staged_plan then removes the folder
            raise
    return ExportResult(
        master_plan=plan_root / TRAINING_PLAN_DIR / MASTER,
        routing_plan_dir=plan_root / ROUTING_PLAN_DIR,
        plan_id=header.training_metadata["plan_id"],
        total_jobs=header.training_metadata["total_jobs"],
    )


def export_training_plan(con: duckdb.DuckDBPyConnection, *, plan_root: Path, policy_path: Path, project: Path) -> Path:
    """The refresh step: export both plans, return the master plan's path."""
    return export_plan(con, plan_root=plan_root, project=project, policy_path=policy_path).master_plan
