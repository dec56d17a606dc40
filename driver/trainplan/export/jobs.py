"""The jobs as the export sees them: the temp tables `plan_jobs`/`plan_routes`, their checks, and the jobs' text.

Reads `training_jobs` and `routing_decisions`; writes only DuckDB temp tables and an Arrow table in plan order.
"""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from trainplan.export import sql as plan_sql
from trainplan.export.header import PlanHeader, PlanInvalid
from trainplan.export.stream import fetch_table
from trainplan.plan.families import normalise_families
from trainplan.plan.schema import schema_errors
from trainplan.warehouse.database import relation_columns


def prepare(con: duckdb.DuckDBPyConnection) -> str:
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


def prepare_routes(con: duckdb.DuckDBPyConnection, formats: list[str], hysteresis: bool = False) -> None:
    """The temp table plan_routes, when dump_plan_as lists a format (with the Markdown rows when it lists MARKDOWN;
    with the hysteresis keys while hysteresis is on). Built once the jobs are fetched: the worker thread then writes
    the training plan meanwhile."""
    if formats:
        columns = relation_columns(con, "routing_decisions")
        con.execute(plan_sql.plan_routes_sql(columns, markdown="md" in formats, hysteresis=hysteresis))


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


def fetch_jobs(con: duckdb.DuckDBPyConnection, job_json: str, views: list[str]) -> pa.Table:
    """Every job's master-plan line and the keys of `views` (`plan_sql.jobs_text_rows`), in plan order."""
    return fetch_table(con, plan_sql.jobs_text_rows(job_json, views))
