"""Pinning the plan a run trains: the resolved published folder, read into memory once, validated once.

`PLAN` (a plan file, a training_plan folder or the folder holding `globals/`) is resolved through the
`globals/training_plan` link to the real `globals/.plan-<token>/training_plan/` folder and the master plan (else
its mirror) is read from there. The run keeps that `Plan` and never reads the plan files again, so a refresh that
publishes a new plan during the run changes nothing for it; the run record names `plan_id` and the folder.

Validation (schema and semantic checks, `trainplan.plan.validate`) costs about 0.3 ms a job; a plan file whose
bytes were validated before (same SHA-256, same schema and checks) is not validated again: the state folder keeps
one empty marker file per validated content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainplan.config.project import project_dir, state_dir
from trainplan.plan import validate as validate_module
from trainplan.plan.files import GLOBALS, MASTER, MIRROR, TRAINING_PLAN, PlanNotFound, training_plan_dir
from trainplan.plan.model import Plan, PlanInvalid
from trainplan.plan.routes import route_names
from trainplan.plan.schema import shipped_schema
from trainplan.plan.validate import validate_plan

PUBLISHED_PREFIX = ".plan-"
VALIDATED_DIR = "validated-plans"


@dataclass(frozen=True)
class PinnedPlan:
    """The plan a run trains, and where it came from."""

    plan: Plan
    plan_id: str
    file: Path  # the file read (resolved: inside `.plan-<token>/` when the plan was published)
    folder: Path  # the resolved published folder `.plan-<token>/` (or the plan's folder when not published)
    globals_dir: Path  # where the default ledger goes (`<globals>/training_runs/`)
    plan_root: Path  # the folder holding globals/ (what `refresh --out` was)
    job_documents: tuple[dict[str, Any], ...]  # the jobs as the file holds them, in plan order


def _read(folder: Path, file: Path | None) -> tuple[Path, bytes, dict[str, Any]]:
    """The master plan (else the mirror), as bytes and parsed; PlanNotFound listing what failed."""
    files = [file] if file is not None else [folder / MASTER, folder / MIRROR]
    errors = []
    for path in files:
        try:
            raw = path.read_bytes()
            doc = json.loads(raw)
        except (OSError, ValueError) as err:
            errors.append(f"{path}: {err}")
            continue
        if isinstance(doc, dict):
            return path, raw, doc
        errors.append(f"{path}: expected a JSON object, found {type(doc).__name__}")
    raise PlanNotFound("no readable training plan: " + "; ".join(errors))


def _checks_key() -> str:
    """Changes when the schema, the route list or the semantic checks change."""
    digest = hashlib.sha256(json.dumps(shipped_schema(), sort_keys=True).encode())
    digest.update("\n".join(route_names()).encode())
    digest.update(Path(validate_module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def _validated(raw: bytes, doc: dict[str, Any], source: Path, cache: Path | None) -> None:
    marker = None
    if cache is not None:
        marker = cache / f"{hashlib.sha256(raw).hexdigest()}-{_checks_key()}"
        if marker.exists():
            return
    problems = validate_plan(doc)
    if problems:
        raise PlanInvalid.listing(str(source), problems)
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # a read-only state folder only costs the next run a validation


def default_cache() -> Path:
    return state_dir(project_dir()) / VALIDATED_DIR


@dataclass(frozen=True)
class PlanPlace:
    """Where a plan path leads, links resolved."""

    given: Path
    folder: Path  # the training_plan folder, resolved
    published: Path  # `.plan-<token>/` when the plan was published, else `folder`
    globals_dir: Path
    plan_root: Path


def locate_plan(path: Path) -> PlanPlace:
    """Resolve a plan path (file, training_plan folder, globals/ or output root); PlanNotFound when none is there."""
    given = path.absolute()
    folder = training_plan_dir(given)  # as given, links not followed
    real = folder.resolve()
    if real.parent.name.startswith(PUBLISHED_PREFIX):
        published, globals_dir = real.parent, real.parent.parent
    else:
        published = real
        globals_dir = folder.parent if folder.name == TRAINING_PLAN else folder
    plan_root = globals_dir.parent if globals_dir.name == GLOBALS.name else globals_dir
    return PlanPlace(given, real, published, globals_dir, plan_root)


def pin_plan(path: Path, cache: Path | None = None) -> PinnedPlan:
    """Resolve, read once and validate the plan at `path`; PlanNotFound / PlanInvalid (exit 2) otherwise."""
    place = locate_plan(path)
    read_path, raw, doc = _read(place.folder, place.given.resolve() if place.given.is_file() else None)
    _validated(raw, doc, read_path, cache)
    plan = Plan.from_document(doc, read_path, check=False)
    return PinnedPlan(
        plan=plan,
        plan_id=str(plan.plan_id),
        file=read_path,
        folder=place.published,
        globals_dir=place.globals_dir,
        plan_root=place.plan_root,
        job_documents=tuple(doc["jobs"]),
    )
