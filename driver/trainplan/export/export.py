"""Writing the plan files from the dbt relations (the driver never re-decides a route).

`export_plan` writes, from `training_jobs`, `routing_decisions`, `routing_policy` and `routing_candidates`:

- `globals/routing_plan/routing_plan.{json,yaml,md}` (the formats listed in the policy's `dump_plan_as`;
  README "Plan files") and `routing_candidates.parquet`, the snapshot of the candidates the decisions were made on
  (what `metadata.metrics_snapshot` names);
- `globals/.plan-<token>/lanes.parquet`, the lanes the plan holds with the SHA-256 of the file they were written
  into (`trainplan.export.lanes`): the next refresh reads its previous lanes there instead of parsing the JSON;
- `globals/training_plan/master_training_plan.json`, its mirror `training_plan.json`, `training_plan.yaml`,
  `training_plan.md` and the views `by_target/`, `by_symbol/`, `by_type/`, `by_route/` (README "Plan files"; view file
  names: `trainplan.plan.names`).

The documents are built by DuckDB (`trainplan.export.sql`) and streamed to disk (`trainplan.export.stream`); the master plan
is checked against the shipped JSON Schema before anything is published, and both folders are published together
(`trainplan.export.store`). Model-family names are normalised by `trainplan.plan.families`.

Each job's JSON is built once and fetched into Arrow in plan order (collected in parallel, a few chunks), and the
master plan and every derived view are cut from those bytes; a worker thread writes them while the main thread has
DuckDB build the routing plan, the YAML and the Markdown (DuckDB and file writes release the GIL, so the two overlap
on two cores); a third thread reads back the file the lanes sidecar names, for its SHA-256, while the YAML and
Markdown are written. The candidates snapshot is written first, before the jobs' text is fetched: its sort is the
export's largest DuckDB allocation, and so it never sits beside the jobs in memory. The policy's `dump_plan_as`
and `training_plan_files` choose which files besides the master plan and its mirror are written.

JSON layout: `metadata` and `summary` are indented by 2; each job (and each routing entry) is one line. Apart from
`generated_at` and `run_id`, the same relations and policy give byte-identical files. `plan_id` (also in the
routing plan) is a hash of everything else except `git_commit`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from trainplan.export import documents, lanes, routing_files, training_files
from trainplan.export import header as plan_header
from trainplan.export import jobs as plan_jobs
from trainplan.export import sql as plan_sql
from trainplan.export.header import PlanInvalid
from trainplan.export.store import staged_plan
from trainplan.plan.files import GLOBALS, MASTER, ROUTING_PLAN, ROUTING_PLAN_DIR, TRAINING_PLAN, TRAINING_PLAN_DIR
from trainplan.plan.previous import file_sha256
from trainplan.warehouse.database import scalar

__all__ = ["PLAN_FOLDERS", "ExportResult", "PlanInvalid", "export_plan"]


PLAN_FOLDERS = (ROUTING_PLAN, TRAINING_PLAN)


@dataclass(frozen=True)
class ExportResult:
    master_plan: Path
    routing_plan_dir: Path
    plan_id: str
    total_jobs: int
    staging: Path  # the `.plan-<token>` folder the files were written to (published unless publish=False)


def export_plan(
    con: duckdb.DuckDBPyConnection,
    *,
    plan_root: Path,
    project: Path,
    now: datetime | None = None,
    publish: bool = True,
) -> ExportResult:
    """Build, check and publish both plans under `plan_root/globals/`; the previous plan stays whole on failure.

    With `publish=False` the complete plan is left staged in `result.staging` for the caller to publish
    (`trainplan.export.store.publish`), e.g. after it has swapped the database the plan came from."""
    job_json = plan_jobs.prepare(con)
    header = plan_header.build_header(con, project=project, now=now or datetime.now(UTC))
    plan_jobs.check_plan(con, header, job_json)
    total_jobs = header.training_metadata["total_jobs"]
    views = header.views() if total_jobs else []
    failed = threading.Event()
    with (
        staged_plan(plan_root / GLOBALS, PLAN_FOLDERS, publish_on_exit=publish) as staging,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan-views") as worker,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan-hash") as hasher,
    ):
        training = staging / TRAINING_PLAN
        try:
            routing_files.write_candidates_snapshot(con, staging / ROUTING_PLAN, header)  # before the jobs are held
            jobs = plan_jobs.fetch_jobs(con, job_json, views)
            # the worker writes the files cut from the jobs' text; the main thread runs the DuckDB queries
            master_done = worker.submit(training_files.write_master, training, header, jobs)
            views_done = worker.submit(training_files.write_views, training, jobs, views, failed) if views else None
            plan_jobs.prepare_routes(con, header.formats, header.hysteresis)
            routing_json = None
            if "json" in header.formats:
                routing_json = routing_files.write_routing_json(con, staging / ROUTING_PLAN, header)
                routes_sha256 = routing_json[2]
            elif header.formats:
                routes_sha256 = scalar(con, plan_sql.routes_digest())
            else:
                routes_sha256 = ""  # no routing plan is written
            master, master_before, jobs_sha256 = master_done.result()
            plan_id = plan_header.plan_id_of(header, jobs_sha256, routes_sha256)
            header.training_metadata["plan_id"] = header.routing_metadata["plan_id"] = plan_id
            documents.patch_plan_id(master, master_before, plan_id)
            if routing_json is not None:
                documents.patch_plan_id(routing_json[0], routing_json[1], plan_id)
            lanes_source = routing_json[0] if routing_json is not None else master
            lanes_sha256 = hasher.submit(file_sha256, lanes_source)  # read back while the YAML and Markdown are written
            routing_files.write_routing_rest(con, staging / ROUTING_PLAN, header)
            training_files.write_training_rest(con, training, header, jobs)
            lanes.write_lanes_sidecar(con, staging, lanes_source, lanes_sha256.result(), hysteresis=header.hysteresis)
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
        staging=staging,
    )
