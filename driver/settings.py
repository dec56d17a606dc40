"""Where things are: the dbt project, the run directory, the DuckDB file, the policy and the output folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_MARKER = "dbt_project.yml"
DEFAULT_POLICY = Path("CONFIG/training_config/routing_config.yaml")
STATE_DIR = ".trainplan"


class SettingsError(ValueError):
    """A path or option the driver cannot work with."""


def project_dir() -> Path:
    """The dbt project: TRAINPLAN_PROJECT_DIR, else the checkout this package lives in."""
    env = os.environ.get("TRAINPLAN_PROJECT_DIR")
    candidate = Path(env) if env else Path(__file__).resolve().parent.parent
    if not (candidate / PROJECT_MARKER).is_file():
        raise SettingsError(
            f"no dbt project at {candidate} (expected {PROJECT_MARKER}); set TRAINPLAN_PROJECT_DIR to the trainplan checkout"
        )
    return candidate.resolve()


@dataclass(frozen=True)
class Settings:
    """Everything one refresh or export needs to know. All paths are absolute."""

    project: Path
    db_path: Path
    policy_path: Path
    run_dir: Path | None = None
    candidates_file: Path | None = None
    out_dir: Path | None = None
    threads: int = 2

    @property
    def state_dir(self) -> Path:
        return self.db_path.parent

    @property
    def plan_root(self) -> Path:
        """Where globals/ is written: --out, else the run directory, else beside the candidates file."""
        if self.out_dir is not None:
            return self.out_dir
        if self.run_dir is not None:
            return self.run_dir
        if self.candidates_file is not None:
            return self.candidates_file.parent
        raise SettingsError("no output folder: give --out, --run-dir or --candidates")


def make_settings(
    *,
    run_dir: Path | None = None,
    candidates_file: Path | None = None,
    out_dir: Path | None = None,
    db_path: Path | None = None,
    policy_path: Path | None = None,
) -> Settings:
    """Resolve options and environment into absolute paths (TRAINPLAN_DB, TRAINPLAN_POLICY, TRAINPLAN_THREADS)."""
    project = project_dir()
    db = db_path or Path(os.environ.get("TRAINPLAN_DB", project / STATE_DIR / "trainplan.duckdb"))
    policy = policy_path or Path(os.environ.get("TRAINPLAN_POLICY", project / DEFAULT_POLICY))
    if not policy.is_absolute():
        policy = Path.cwd() / policy
    if not policy.is_file():
        raise SettingsError(f"routing policy not found: {policy} (option --policy / env TRAINPLAN_POLICY)")
    threads = os.environ.get("TRAINPLAN_THREADS", "2")
    if not threads.isdigit() or int(threads) < 1:
        raise SettingsError(f"TRAINPLAN_THREADS must be a positive whole number, got {threads!r}")
    return Settings(
        project=project,
        db_path=db.resolve(),
        policy_path=policy.resolve(),
        run_dir=run_dir.resolve() if run_dir else None,
        candidates_file=candidates_file.resolve() if candidates_file else None,
        out_dir=out_dir.resolve() if out_dir else None,
        threads=int(threads),
    )
