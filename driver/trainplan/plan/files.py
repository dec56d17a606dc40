"""Finding and loading a written plan (the reference consumer's names, docs/training-api.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trainplan.errors import TrainplanError

GLOBALS = Path("globals")
ROUTING_PLAN = "routing_plan"
TRAINING_PLAN = "training_plan"
TRAINING_PLAN_DIR = GLOBALS / TRAINING_PLAN
ROUTING_PLAN_DIR = GLOBALS / ROUTING_PLAN
MASTER = "master_training_plan.json"
MIRROR = "training_plan.json"
ROUTING_PLAN_JSON = "routing_plan.json"
CANDIDATES_SNAPSHOT = "routing_candidates.parquet"
# Beside routing_plan/ and training_plan/ in a published plan folder: the lanes the plan holds, as a parquet (README
# "Plan files"); the next refresh reads them there instead of parsing the plan's JSON when the hash matches.
LANES_SIDECAR = "lanes.parquet"


class PlanNotFound(TrainplanError, FileNotFoundError):
    """No readable training plan where one was expected."""


def training_plan_dir(path: Path) -> Path:
    """The training_plan folder for a plan file, a training_plan folder, a globals/ folder or a run/output root."""
    if path.is_file():
        return path.parent
    for candidate in (path, path / TRAINING_PLAN, path / TRAINING_PLAN_DIR):
        if (candidate / MASTER).is_file() or (candidate / MIRROR).is_file():
            return candidate
    raise PlanNotFound(f"no {MASTER} at {path} (nor in {path}/globals/training_plan)")


def routing_plan_dir(path: Path) -> Path:
    return training_plan_dir(path).parent / ROUTING_PLAN


def load_training_plan(path: Path) -> dict[str, Any]:
    """The master plan (a JSON object); falls back to the mirror when the master is missing or unreadable."""
    if path.is_file():
        files = [path]
    else:
        folder = training_plan_dir(path)
        files = [folder / MASTER, folder / MIRROR]
    errors = []
    for file in files:
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            errors.append(f"{file}: {err}")
            continue
        if isinstance(doc, dict):
            return doc
        errors.append(f"{file}: expected a JSON object, found {type(doc).__name__}")
    raise PlanNotFound("no readable training plan: " + "; ".join(errors))


def load_routing_plan(path: Path) -> dict[str, Any] | None:
    """routing_plan.json beside the training plan, or None when it was not written."""
    file = routing_plan_dir(path) / ROUTING_PLAN_JSON
    if not file.is_file():
        return None
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PlanNotFound(f"{file}: unreadable routing plan ({err}); expected a JSON object") from err
    if not isinstance(doc, dict):
        raise PlanNotFound(f"{file}: expected a JSON object, found {type(doc).__name__}")
    return doc
