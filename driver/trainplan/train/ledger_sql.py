"""The ledger as SQL relations: temp views over the run files, read with DuckDB's `read_json`.

`trainplan sql` runs these statements on its read-only connection (temp views need no write access), so the
ledger joins with `routing_decisions` and `training_jobs`; `trainplan runs` runs them on an in-memory database.
The files are read when a query runs, so a query sees every record a run in progress has written. Columns are
typed explicitly (a record without a key reads as NULL); `ignore_errors` turns a torn line into a row of NULLs,
which the views drop.

- `training_events`: every record (sessions, attempt events, session ends), with `seq` its order in the file;
- `training_attempts`: one row per (run, job, attempt): its latest event (`running` until it ends);
- `training_job_status`: one row per (run, job): its latest attempt, with `attempts` the number it has;
- `training_runs`: one row per run: the plan, first start, last end, outcome, and jobs per status.
"""

from __future__ import annotations

from pathlib import Path

from trainplan.train.ledger import STATUSES, run_files

# Every key a ledger record may have, with its DuckDB type (trainplan.train.ledger writes them).
COLUMNS: dict[str, str] = {
    "record": "VARCHAR",
    "seq": "BIGINT",
    "run_id": "VARCHAR",
    "session": "INTEGER",
    "plan_id": "VARCHAR",
    "job_id": "VARCHAR",
    "target": "VARCHAR",
    "symbol": "VARCHAR",
    "training_type": "VARCHAR",
    "route": "VARCHAR",
    "priority": "INTEGER",
    "attempt": "INTEGER",
    "executor": "VARCHAR",
    "host": "VARCHAR",
    "node": "VARCHAR",
    "address": "VARCHAR",
    "pid": "BIGINT",
    "status": "VARCHAR",
    "started_at": "TIMESTAMP",
    "ended_at": "TIMESTAMP",
    "duration_s": "DOUBLE",
    "exit_code": "INTEGER",
    "error": "VARCHAR",
    "output_tail": "VARCHAR",
    "metrics": "JSON",
    "artifacts_dir": "VARCHAR",
    "artifacts": "VARCHAR[]",
    "plan_dir": "VARCHAR",
    "plan_file": "VARCHAR",
    "ledger": "VARCHAR",
    "trainer": "VARCHAR",
    "command": "VARCHAR[]",
    "workers": "INTEGER",
    "timeout_s": "DOUBLE",
    "retries": "INTEGER",
    "filters": "JSON",
    "allow_stale": "BOOLEAN",
    "stale": "VARCHAR",
    "resumed": "BOOLEAN",
    "jobs_selected": "INTEGER",
    "repaired": "VARCHAR",
    "outcome": "VARCHAR",
    "counts": "JSON",
}

ATTEMPT_COLUMNS = (
    "run_id",
    "session",
    "plan_id",
    "job_id",
    "target",
    "symbol",
    "training_type",
    "route",
    "priority",
    "attempt",
    "executor",
    "host",
    "node",
    "pid",
    "status",
    "started_at",
    "ended_at",
    "duration_s",
    "exit_code",
    "error",
    "metrics",
    "output_tail",
    "artifacts_dir",
    "artifacts",
    "seq",
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _events_source(files: list[Path]) -> str:
    if not files:  # read_json fails on an empty list: an empty relation of the same columns
        return "select " + ", ".join(f"null::{t} as {c}" for c, t in COLUMNS.items()) + " where false"
    columns = "{" + ", ".join(f"{_literal(c)}: {_literal(t)}" for c, t in COLUMNS.items()) + "}"
    listing = "[" + ", ".join(_literal(str(f)) for f in files) + "]"
    return (
        f"select * from read_json({listing}, format = 'newline_delimited', columns = {columns}, "
        "ignore_errors = true) where record is not null"
    )


def ledger_views(ledger_dir: Path | None) -> list[str]:
    """The statements that create the ledger's temp views (empty views when there is no ledger yet)."""
    files = run_files(ledger_dir) if ledger_dir is not None else []
    attempt_columns = ", ".join(ATTEMPT_COLUMNS)
    counts = ", ".join(f"count(*) filter (where s.status = {_literal(status)}) as {status}" for status in STATUSES)
    return [
        f"create or replace temp view training_events as {_events_source(files)}",
        f"""create or replace temp view training_attempts as
            select {attempt_columns} from training_events
            where record = 'attempt'
            qualify row_number() over (partition by run_id, job_id, attempt order by seq desc) = 1""",
        """create or replace temp view training_job_status as
            select *, count(*) over (partition by run_id, job_id) as attempts from training_attempts
            qualify row_number() over (partition by run_id, job_id order by attempt desc, seq desc) = 1""",
        f"""create or replace temp view training_runs as
            with sessions as (
                select
                    run_id,
                    min(started_at) as started_at,
                    max(session) as sessions,
                    arg_max(plan_id, session) as plan_id,
                    arg_max(plan_dir, session) as plan_dir,
                    arg_max(executor, session) as executor,
                    arg_max(host, session) as host,
                    arg_max(pid, session) as pid,
                    arg_max(trainer, session) as trainer,
                    arg_max(command, session) as command,
                    arg_max(jobs_selected, session) as jobs_selected,
                    bool_or(allow_stale) as allow_stale,
                    arg_max(stale, session) as stale
                from training_events where record = 'session'
                group by run_id
            ),
            ends as (
                select run_id, arg_max(ended_at, session) as ended_at, arg_max(outcome, session) as outcome,
                    max(session) as last_ended_session
                from training_events where record = 'session_end'
                group by run_id
            ),
            jobs as (
                select s.run_id, count(*) as jobs, {counts}
                from training_job_status as s
                group by s.run_id
            )
            select
                sessions.run_id, sessions.plan_id, sessions.started_at,
                case when ends.last_ended_session = sessions.sessions then ends.ended_at end as ended_at,
                case when ends.last_ended_session = sessions.sessions then ends.outcome else 'open' end as outcome,
                sessions.sessions, sessions.jobs_selected, coalesce(jobs.jobs, 0) as jobs_recorded,
                {", ".join(f"coalesce(jobs.{s}, 0) as {s}" for s in STATUSES)},
                sessions.executor, sessions.host, sessions.pid, sessions.trainer, sessions.command,
                sessions.allow_stale, sessions.stale, sessions.plan_dir
            from sessions
            left join ends using (run_id)
            left join jobs using (run_id)""",
    ]


def ledger_report_sql(plan_id: str) -> tuple[str, str, str]:
    """(progress, durations, metrics) queries over the ledger views for the report's training section, for the
    latest run of the plan `plan_id`: jobs per route and status; the seconds of each finished attempt; and each
    job's numeric metrics, flattened from the trainer's JSON (a metric is a top-level number or a leaf whose key
    ends in `score`, named by its JSON path)."""
    latest = f"""(select run_id from training_attempts where plan_id = {_literal(plan_id)}
                  order by started_at desc nulls last limit 1)"""
    progress = f"""select route, status, count(*) as jobs from training_job_status
                   where run_id = {latest} group by route, status order by route, status"""
    durations = f"""select training_type, status, duration_s as seconds from training_attempts
                    where run_id = {latest} and status != 'running' and duration_s is not null"""
    metrics = f"""select s.training_type, ltrim(t.fullkey, '$.') as metric, t.value::double as value
                  from training_job_status as s, json_tree(s.metrics) as t
                  where s.run_id = {latest} and s.status = 'succeeded'
                    and t.type in ('DOUBLE', 'BIGINT', 'UBIGINT')
                    and (t.fullkey = '$.' || t.key or t.key like '%score')"""
    return progress, durations, metrics
