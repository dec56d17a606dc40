"""The JSON Schema of master_training_plan.json, shipped in the package (trainplan/plan/schemas/), and validation."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from trainplan.plan.routes import route_names

SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "master_training_plan.schema.json"


def shipped_schema() -> dict[str, Any]:
    """The schema file as shipped (its route list is a copy of seeds/route_rules.csv for tools outside trainplan)."""
    return json.loads(resources.files("trainplan.plan").joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8"))


@cache
def master_plan_schema() -> dict[str, Any]:
    """The schema trainplan checks against: the shipped file with its route list taken from seeds/route_rules.csv."""
    schema = shipped_schema()
    schema["$defs"]["route"]["enum"] = route_names()
    return schema


def schema_errors(doc: Any) -> list[str]:
    """Every schema violation of `doc`, as `<json path>: <message>` lines (empty when valid)."""
    validator = Draft202012Validator(master_plan_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{e.json_path}: {e.message}" for e in errors]
