"""JSON documents written in parts: the text around a streamed value, and the plan_id patched in afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trainplan.export.header import PLAN_ID_PLACEHOLDER


def split_around(doc: dict[str, Any], key: str) -> tuple[str, str]:
    """The JSON text (indent 2) of `doc` before and after the value of `key`, which is streamed separately."""
    marker = "\x00@@STREAM@@\x00"
    text = json.dumps({**doc, key: marker}, indent=2, ensure_ascii=False)
    before, after = text.split(json.dumps(marker))
    return before, after + "\n"


def patch_plan_id(path: Path, before: str, plan_id: str) -> None:
    """Replace the placeholder plan_id in the header (the text written before the streamed part)."""
    needle = f'"plan_id": "{PLAN_ID_PLACEHOLDER}"'.encode()
    offset = before.encode().index(needle) + len('"plan_id": "')
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(plan_id.encode())
