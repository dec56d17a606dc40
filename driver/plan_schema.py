"""The JSON Schema of master_training_plan.json, shipped in the package (driver/schemas/), and validation."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "master_training_plan.schema.json"


@cache
def master_plan_schema() -> dict[str, Any]:
    return json.loads(resources.files("driver").joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8"))


def schema_errors(doc: Any) -> list[str]:
    """Every schema violation of `doc`, as `<json path>: <message>` lines (empty when valid)."""
    validator = Draft202012Validator(master_plan_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{e.json_path}: {e.message}" for e in errors]
