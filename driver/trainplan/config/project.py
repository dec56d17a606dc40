"""Finding the dbt project and the state folder: a checkout first, else the copy installed with the package.

The wheel carries the dbt project (models, macros, seeds, data tests, profiles, the default policy) under
`trainplan/_project/`; a checkout has it at the repository root, two levels above this package's source root.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

from trainplan.errors import TrainplanError

PROJECT_MARKER = "dbt_project.yml"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
INSTALLED_PROJECT = PACKAGE_ROOT / "_project"
CHECKOUT_PROJECT = PACKAGE_ROOT.parent.parent
STATE_DIR_NAME = ".trainplan"


class ProjectNotFound(TrainplanError):
    """No dbt project where trainplan looks for one."""


def project_dir() -> Path:
    """The dbt project: env TRAINPLAN_PROJECT_DIR, else the checkout this package lives in, else the installed copy."""
    env = os.environ.get("TRAINPLAN_PROJECT_DIR")
    candidates = [Path(env)] if env else [CHECKOUT_PROJECT, INSTALLED_PROJECT]
    for candidate in candidates:
        if (candidate / PROJECT_MARKER).is_file():
            return candidate.resolve()
    where = " or ".join(str(c) for c in candidates)
    raise ProjectNotFound(
        f"no dbt project at {where} (expected {PROJECT_MARKER}); set TRAINPLAN_PROJECT_DIR to a trainplan checkout"
    )


def is_checkout(project: Path) -> bool:
    """True when the project is a source checkout (its files are the user's to write beside), not the installed copy."""
    return project.resolve() != INSTALLED_PROJECT.resolve()


def state_dir(project: Path) -> Path:
    """Where trainplan keeps its own files (databases, dbt's target/ and logs, the last refresh).

    env TRAINPLAN_STATE_DIR, else `.trainplan/` in the checkout, else `.trainplan/` in the working directory (never
    inside an installed package).
    """
    env = os.environ.get("TRAINPLAN_STATE_DIR")
    if env:
        return Path(env).resolve()
    base = project if is_checkout(project) else Path.cwd()
    return (base / STATE_DIR_NAME).resolve()


@cache
def _project_vars(project: Path) -> dict[str, object]:
    doc = yaml.safe_load((project / PROJECT_MARKER).read_text(encoding="utf-8")) or {}
    return doc.get("vars") or {}


def default_policy(project: Path) -> Path:
    """The shipped routing policy: the dbt var `default_policy_path` of dbt_project.yml, relative to the project."""
    value = _project_vars(project).get("default_policy_path")
    if not isinstance(value, str) or not value:
        raise ProjectNotFound(f"{project / PROJECT_MARKER}: vars.default_policy_path must name the shipped policy file")
    return project / value
