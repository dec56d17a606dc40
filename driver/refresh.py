"""refresh = check the inputs, dbt build into a fresh database, export the plan from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from driver.database import read_only
from driver.dbt_runner import run_dbt_build
from driver.export import export_training_plan
from driver.rejects import fail_on_rejects, fetch_rejects
from driver.run_dir import check_run_dir
from driver.settings import Settings, SettingsError


@dataclass(frozen=True)
class RefreshResult:
    db_path: Path
    master_plan: Path
    n_rejects: int


def check_inputs(settings: Settings) -> None:
    if settings.run_dir is None and settings.candidates_file is None:
        raise SettingsError("nothing to read: give --run-dir DIR or --candidates FILE")
    if settings.run_dir is not None and settings.candidates_file is not None:
        raise SettingsError("give either --run-dir DIR or --candidates FILE, not both (a build reads one of them)")
    if settings.run_dir is not None:
        check_run_dir(settings.run_dir)
    if settings.candidates_file is not None and not settings.candidates_file.is_file():
        raise SettingsError(
            f"{settings.candidates_file}: no such file; expected a routing_candidates.parquet as the reference "
            "writes it (globals/routing/routing_candidates.parquet)"
        )


def refresh(settings: Settings, strict: bool = False) -> RefreshResult:
    """Build and export. With `strict`, any rejected input fails the refresh and keeps the previous plan."""
    check_inputs(settings)
    result = run_dbt_build(settings, before_replace=fail_on_rejects if strict else None)
    with read_only(result.db_path) as con:
        n_rejects = len(fetch_rejects(con))
        plan = export_training_plan(
            con, plan_root=settings.plan_root, policy_path=settings.policy_path, project=settings.project
        )
    return RefreshResult(db_path=result.db_path, master_plan=plan, n_rejects=n_rejects)
