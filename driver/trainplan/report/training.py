"""Section 7's numbers: training progress from the job ledger — the hook the train stage's ledger plugs into.

The report does not read the ledger's files: it takes `LedgerRelations`, three DuckDB relations shaped as below,
which the train stage builds from its ledger views. With no ledger (`None`) the page says "no training runs yet".
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from trainplan.report.tables import Table, table

PROGRESS_COLUMNS = ("route", "status", "jobs")
DURATION_COLUMNS = ("training_type", "status", "seconds")
METRIC_COLUMNS = ("training_type", "metric", "value")


class LedgerShapeError(ValueError):
    """A ledger relation without the columns the report reads (a bug between two stages, not a user's error)."""


@dataclass(frozen=True)
class LedgerRelations:
    """The job ledger as the report reads it.

    progress:  route, status, jobs      one row per route x status (jobs: how many of the plan's jobs)
    durations: training_type, status, seconds   one row per finished attempt
    metrics:   training_type, metric, value     one row per job x numeric metric the trainer returned
    """

    progress: duckdb.DuckDBPyRelation
    durations: duckdb.DuckDBPyRelation | None = None
    metrics: duckdb.DuckDBPyRelation | None = None


@dataclass(frozen=True)
class TrainingTables:
    progress: Table
    durations: Table | None
    metrics: Table | None


def _checked(relation: duckdb.DuckDBPyRelation, name: str, wanted: tuple[str, ...]) -> duckdb.DuckDBPyRelation:
    missing = [c for c in wanted if c not in relation.columns]
    if missing:
        raise LedgerShapeError(f"ledger {name}: missing columns {missing}; the report reads {list(wanted)}")
    return relation


def training_tables(ledger: LedgerRelations | None) -> TrainingTables | None:
    """The three tables of section 7, or None when there is no ledger yet."""
    if ledger is None:
        return None
    progress = _checked(ledger.progress, "progress", PROGRESS_COLUMNS)
    rows = progress.aggregate("route, status, sum(jobs)::bigint as jobs", "route, status").order("route, status")
    durations = metrics = None
    if ledger.durations is not None:
        rel = _checked(ledger.durations, "durations", DURATION_COLUMNS)
        agg = rel.aggregate(
            "training_type, status, count(*) as attempts, min(seconds) as min_s, median(seconds) as median_s, "
            "quantile_cont(seconds, 0.9) as p90_s, max(seconds) as max_s",
            "training_type, status",
        ).order("training_type, status")
        durations = table(
            "Attempt durations (seconds) per job type and status",
            ["job type", "status", "attempts", "min", "median", "p90", "max"],
            agg.fetchall(),
        )
    if ledger.metrics is not None:
        rel = _checked(ledger.metrics, "metrics", METRIC_COLUMNS)
        agg = rel.aggregate(
            "training_type, metric, count(*) as jobs, min(value) as min_v, avg(value) as mean_v, max(value) as max_v",
            "training_type, metric",
        ).order("training_type, metric")
        metrics = table(
            "Trainer metrics per job type", ["job type", "metric", "jobs", "min", "mean", "max"], agg.fetchall()
        )
    return TrainingTables(
        progress=table("Jobs per route and status", ["route", "status", "jobs"], rows.fetchall()),
        durations=durations,
        metrics=metrics,
    )
