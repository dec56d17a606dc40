"""refresh = check the inputs, dbt build into a fresh database, export the plan from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainplan.config.policy import load_policy_document
from trainplan.config.run_dir import check_run_dir
from trainplan.config.settings import Settings, SettingsError, make_settings, record_last_refresh
from trainplan.export.export import export_training_plan
from trainplan.samples.sample import SampleOptions, generate_sample
from trainplan.warehouse.database import read_only
from trainplan.warehouse.dbt_runner import run_dbt_build
from trainplan.warehouse.rejects import fail_on_rejects, fetch_rejects

PARQUET_MAGIC = b"PAR1"
SAMPLE_RUN = Path("examples/sample_run")
DEMO_DIR = "demo"


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
    if settings.candidates_file is not None:
        check_candidates_file(settings.candidates_file)


def check_candidates_file(path: Path) -> None:
    """A ready candidates file must exist and be a parquet file (PAR1 magic at both ends)."""
    expected = "expected a routing_candidates.parquet as the reference writes it (globals/routing/)"
    if not path.is_file():
        raise SettingsError(f"{path}: no such file; {expected}")
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, path.stat().st_size - 4))
        tail = handle.read(4)
    if path.stat().st_size < 12 or head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise SettingsError(f"{path}: not a parquet file; {expected}")


def refresh(settings: Settings, strict: bool = False) -> RefreshResult:
    """Build and export. With `strict`, any rejected input fails the refresh and keeps the previous plan."""
    check_inputs(settings)
    result = run_dbt_build(settings, before_replace=fail_on_rejects if strict else None)
    with read_only(result.db_path) as con:
        n_rejects = len(fetch_rejects(con))
        plan = export_training_plan(
            con, plan_root=settings.plan_root, policy_path=settings.policy_path, project=settings.project
        )
    record_last_refresh(settings)
    return RefreshResult(db_path=result.db_path, master_plan=plan, n_rejects=n_rejects)


def demo_settings() -> Settings:
    """The demo: the bundled sample run of a checkout (else the same sample generated into the state folder),
    planned into `<state>/demo/` with its own database."""
    base = make_settings()
    out = base.state_dir / DEMO_DIR
    run_dir = base.project / SAMPLE_RUN
    if not run_dir.is_dir():
        run_dir = out / "sample_run"
        if not run_dir.is_dir():
            generate_sample(SampleOptions(out=run_dir), load_policy_document(base.policy_path))
    return make_settings(run_dir=run_dir, out_dir=out, db_path=out / "trainplan.duckdb")
