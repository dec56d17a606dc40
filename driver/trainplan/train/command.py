"""`--command ARG ...`: the placeholders substituted inside each argument, never through a shell.

Each argument is scanned once, left to right: `{name}` becomes the job's value, `{{` and `}}` become `{` and `}`,
and nothing substituted is scanned again (a symbol named `{target}` or `; rm -rf /` stays one literal argument).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from trainplan.errors import TrainplanError

PLACEHOLDERS = (
    "job_id",
    "target",
    "symbol",
    "families",
    "training_type",
    "excluded_features",
    "artifacts_dir",
    "job_file",
    "attempt",
    "run_id",
)
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
JOB_FILE = "job.json"


class CommandInvalid(TrainplanError):
    """A --command that cannot run: empty, an unknown placeholder, or a program that is not there."""


def placeholders_in(argv: Sequence[str]) -> set[str]:
    return {m.group(1) for arg in argv for m in _TOKEN.finditer(arg) if m.group(1)}


def check_command(argv: Sequence[str], cwd: Path) -> None:
    """Raise CommandInvalid before any job runs when the command cannot work for any job."""
    if not argv:
        raise CommandInvalid("--command needs the program and its arguments (after --command, or after --)")
    unknown = sorted(placeholders_in(argv) - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise CommandInvalid(
            f"--command: unknown placeholder {{{unknown[0]}}} (known: {known}; write {{{{ and }}}} for literal braces)"
        )
    program = argv[0]
    if not placeholders_in([program]):
        found = (cwd / program).is_file() if "/" in program else shutil.which(program) is not None
        if not found:
            raise CommandInvalid(f"--command: program {program!r} not found (not a file, nor on PATH)")


def job_values(job: Mapping[str, object], artifacts_dir: str, attempt: int, run_id: str) -> dict[str, str]:
    """The placeholder values of one job: lists comma-joined, a CS job's symbol empty."""

    def joined(key: str) -> str:
        return ",".join(str(v) for v in (job.get(key) or ()))  # type: ignore[union-attr]

    return {
        "job_id": str(job["job_id"]),
        "target": str(job["target"]),
        "symbol": "" if job.get("symbol") is None else str(job["symbol"]),
        "families": joined("model_families"),
        "training_type": str(job["training_type"]),
        "excluded_features": joined("excluded_features"),
        "artifacts_dir": artifacts_dir,
        "job_file": str(Path(artifacts_dir) / JOB_FILE),
        "attempt": str(attempt),
        "run_id": run_id,
    }


def render(argv: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """The argument list with every placeholder replaced (one pass; substituted text is never rescanned)."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values.get(match.group(1), token)

    return [_TOKEN.sub(one, arg) for arg in argv]
