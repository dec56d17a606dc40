"""The page's sections, in the issue's order: each pairs the data modules' tables with the charts drawn from them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from trainplan.plan.routes import route_names
from trainplan.report import changes as changes_data
from trainplan.report import charts, evidence, lanes, rejects, routes
from trainplan.report.limits import NEAR_BOUNDARY
from trainplan.report.tables import Figure, Section
from trainplan.report.training import LedgerRelations, training_tables

NO_TRAINING = "No training runs yet: this plan's job ledger has no records."
NO_STABILITY = "No scope has a mean Jaccard and Kendall tau (too few snapshots, or none): nothing to draw."


def routes_section(con: duckdb.DuckDBPyConnection) -> Section:
    per_target = routes.routes_per_target(con)
    matrix = routes.route_matrix(con)
    return Section(
        "routes",
        "Routes",
        "Where each target's symbol pairs go, and the route of every target x symbol pair.",
        (
            Figure(
                "routes-per-target",
                "Routes per target",
                (per_target,),
                charts.routes_per_target(per_target, route_names()),
            ),
            Figure(
                "route-matrix",
                "Target x symbol routes",
                (matrix.table,),
                charts.route_matrix(matrix.table, matrix.bucket, matrix.note),
                matrix.note,
            ),
        ),
    )


def lanes_section(con: duckdb.DuckDBPyConnection) -> Section:
    histogram = lanes.margin_histogram(con)
    strip = lanes.score_strip(con)
    return Section(
        "lanes",
        "Score against threshold",
        "Each lane decision's score, the threshold it was held to (the bar of the state it reached, or the lowest bar "
        f"for a DISALLOWED lane) and the margin between them. Pairs within ±{NEAR_BOUNDARY} of their threshold are "
        "outlined: a small change in score moves them. The red tick is where the experimental cap cut a target's "
        "experimental symbols (best local score first).",
        (
            Figure("margins", "Margins", (histogram.table,), charts.margin_histogram(histogram.table, histogram.width)),
            Figure(
                "scores",
                "Scores, thresholds and the experimental cap",
                (strip.points, strip.thresholds, strip.caps),
                charts.score_strip(strip.points, strip.thresholds, strip.caps, strip.note),
                strip.note,
            ),
        ),
    )


def evidence_section(con: duckdb.DuckDBPyConnection) -> Section:
    classes = evidence.stability_classes(con)
    bands = evidence.stability_bands(con)
    scatter = evidence.stability_scatter(con)
    leak = evidence.leakage(con)
    return Section(
        "evidence",
        "Stability and leakage",
        "Stability of feature importances per scope (a target's CS scope, or one symbol) against the policy's "
        "classification bands, and the leakage status of each target with the file that set it.",
        (
            Figure("stability-classes", "Stability classes", (classes,), charts.stability_classes(classes)),
            Figure(
                "stability",
                "Stability per scope",
                (scatter.table, bands),
                charts.stability_scatter(scatter.table, bands, scatter.binned, scatter.note) if scatter.total else None,
                scatter.note if scatter.total else NO_STABILITY,
            ),
            Figure(
                "leakage",
                "Leakage per target",
                (leak.per_target, leak.flagged),
                charts.leakage_per_target(leak.per_target),
            ),
        ),
    )


def rejects_section(con: duckdb.DuckDBPyConnection) -> Section:
    listing = rejects.rejected_inputs(con)
    if listing is None:
        return Section("rejects", "Rejected inputs", "", message="This database has no rejected_inputs relation.")
    if not listing.rows:
        return Section("rejects", "Rejected inputs", "", message="No input was rejected: every file was read.")
    by_problem = rejects.rejects_by_problem(con)
    return Section(
        "rejects",
        "Rejected inputs",
        "Files (or rows, or folders) the build set aside, what was wrong and what was expected.",
        (Figure("rejected", "Rejected inputs", (by_problem, listing)),),
    )


def changes_section(con: duckdb.DuckDBPyConnection, previous: Path | None, previous_id: str | None) -> Section:
    title = "What changed"
    if previous is None:
        return Section("changes", title, "", message="No previous plan given (--previous PLAN).")
    found = changes_data.changes(con, previous, previous_id)
    intro = f"Since plan {previous_id or '?'} ({previous}). A route is gained when a pair had none (or BLOCKED), "
    intro += "lost the other way round, switched when it moved between two training routes."
    tables = (found.per_target, found.transitions, found.pairs)
    if not found.any:
        return Section("changes", title, intro, (Figure("changes", "Route changes", tables),), "No route changed.")
    return Section(
        "changes",
        title,
        intro,
        (Figure("changes", "Route changes", tables, charts.changes_per_target(found.per_target)),),
    )


def training_section(ledger: LedgerRelations | None) -> Section:
    """Section 7: training progress from the job ledger, or "no training runs yet" without one."""
    found = training_tables(ledger)
    title = "Training"
    if found is None:
        return Section("training", title, "", message=NO_TRAINING)
    figures = [Figure("training-progress", "Progress", (found.progress,), charts.training_progress(found.progress))]
    if found.durations is not None:
        figures.append(
            Figure("training-durations", "Durations", (found.durations,), charts.training_durations(found.durations))
        )
    if found.metrics is not None:
        figures.append(Figure("training-metrics", "Metrics", (found.metrics,), charts.training_metrics(found.metrics)))
    return Section(
        "training", title, "Jobs of this plan by route and status, attempt durations, trainer metrics.", tuple(figures)
    )
