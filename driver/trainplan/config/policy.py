"""Reading the routing policy YAML as a document (dbt validates it at build time; this only parses it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from trainplan.errors import TrainplanError


class PolicyUnreadable(TrainplanError):
    """The policy file cannot be read or is not a YAML mapping with a `routing` key."""


def load_policy_document(path: Path) -> dict[str, Any]:
    """The parsed policy file; its `routing` mapping must exist."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise PolicyUnreadable(f"{path}: cannot read the routing policy ({err}); expected a YAML file") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("routing"), dict):
        raise PolicyUnreadable(f"{path}: key 'routing': expected a top-level mapping under the key 'routing'")
    return doc
