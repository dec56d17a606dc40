"""`write_report`: one plan and its database in, one self-contained HTML file out (written atomically)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from trainplan.config.settings import last_refresh
from trainplan.errors import storage_errors
from trainplan.plan.files import TRAINING_PLAN
from trainplan.report.header import header
from trainplan.report.sources import ReportInputError, plan_files, plan_metadata
from trainplan.report.training import LedgerRelations
from trainplan.warehouse.database import read_only

REPORT_FILE = "report.html"


@dataclass(frozen=True)
class ReportResult:
    path: Path
    size: int  # bytes
    charts: int
    plan_id: str | None


def plan_or_last(plan: Path | None, state_dir: Path) -> Path:
    """`plan`, else the plan root of the last refresh or demo recorded in the state folder."""
    if plan is not None:
        return plan
    last = last_refresh(state_dir)
    if last is None:
        raise ReportInputError("no plan given and no refresh recorded yet: give PLAN or run `trainplan refresh` first")
    return last[1]


def default_out(plan: Path) -> Path:
    """`report.html` next to the plan: beside its training_plan folder (in globals/, which a later publication
    keeps), or in the folder of a plan file kept elsewhere."""
    folder = plan_files(plan).folder
    return (folder.parent if folder.name == TRAINING_PLAN else folder) / REPORT_FILE


def write_report(
    plan: Path,
    db: Path,
    *,
    previous: Path | None = None,
    out: Path | None = None,
    ledger: LedgerRelations | None = None,
) -> ReportResult:
    """Write the report of `plan` built from the relations of `db` (and what changed since `previous`)."""
    # the charts' modules import Altair (0.15 s): only a report pays for it, not every command that imports this one
    from trainplan.report.page import chart_specs, render_page
    from trainplan.report.sections import (
        changes_section,
        evidence_section,
        lanes_section,
        rejects_section,
        routes_section,
        training_section,
    )

    files = plan_files(plan)
    metadata = plan_metadata(files.master)
    previous_id = plan_metadata(plan_files(previous).master).get("plan_id") if previous is not None else None
    with read_only(db) as con:
        head = header(con, metadata, files.master, db)
        sections = [
            routes_section(con),
            lanes_section(con),
            evidence_section(con),
            rejects_section(con),
            changes_section(con, previous, previous_id),
            training_section(ledger),
        ]
    plan_id = metadata.get("plan_id")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = render_page(
        title=f"trainplan report — plan {plan_id or '?'}",
        subtitle=f"run {metadata.get('run_id') or '?'} · semantics {metadata.get('semantics') or '?'} · "
        f"generated {metadata.get('generated_at') or '?'}",
        header=head,
        sections=sections,
        footer=f"Written by trainplan report on {now}. Charts: Vega-Lite through Altair {version('altair')}, "
        "inlined with their data: the file opens offline.",
    )
    target = out or default_out(plan)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with storage_errors("writing the report", f"{target} is unchanged", target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            tmp.write_text(page, encoding="utf-8")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return ReportResult(target, target.stat().st_size, len(chart_specs(sections)), plan_id)
