"""The training plan's files: master_training_plan.json, its mirror, the YAML, the Markdown and the derived views.

Reads the jobs' text (an Arrow table in plan order) and `plan_jobs`; writes into the staged `training_plan/` folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from trainplan.export import sql as plan_sql
from trainplan.export.documents import split_around
from trainplan.export.escape import md_cell, utf8_needs_yaml_escape
from trainplan.export.header import PlanHeader
from trainplan.export.stream import (
    array_bytes,
    partition_batches,
    run_slices,
    write_array,
    write_grouped,
    write_partitioned,
    write_rows,
)
from trainplan.plan.files import MASTER, MIRROR
from trainplan.plan.names import view_file_name
from trainplan.warehouse.database import relation_columns


def write_master(folder: Path, header: PlanHeader, jobs: pa.Table) -> tuple[Path, str, str]:
    """master_training_plan.json with the placeholder plan_id; returns (path, header text, SHA-256 of the jobs)."""
    md, summary = header.training_metadata, header.summary
    before, after = split_around({"metadata": md, "jobs": None, "summary": summary}, "jobs")
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
    _mirror(folder / MASTER, folder / MIRROR)
    if "YAML" in header.training_files:
        _write_training_yaml(
            con, folder / "training_plan.yaml", header, utf8_needs_yaml_escape(array_bytes(jobs.column("line")))
        )
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
        return f"\n### {md_cell(name)}\n\n{table}".encode()

    with path.open("xb") as fh:
        fh.write("\n".join(lines).encode())
        write_grouped(fh, con, plan_sql.jobs_markdown_rows(), list(targets), head, lambda _: b"")
