"""refresh = check the inputs, dbt build into a fresh database, export the plan from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from driver.database import read_only
from driver.dbt_runner import run_dbt_build
from driver.export import export_training_plan
from driver.run_dir import check_run_dir
from driver.settings import Settings, SettingsError


@dataclass(frozen=True)
class RefreshResult:
    db_path: Path
    master_plan: Path


def check_inputs(settings: Settings) -> None:
    if settings.run_dir is None and settings.candidates_file is None:
        raise SettingsError("nothing to read: give --run-dir DIR or --candidates FILE")
    if settings.run_dir is not None:
        check_run_dir(settings.run_dir)


def refresh(settings: Settings) -> RefreshResult:
    check_inputs(settings)
    result = run_dbt_build(settings)
    with read_only(result.db_path) as con:
        plan = export_training_plan(
            con, plan_root=settings.plan_root, policy_path=settings.policy_path, project=settings.project
        )
    return RefreshResult(db_path=result.db_path, master_plan=plan)
