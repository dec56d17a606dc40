"""Options more than one command takes, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="DuckDB file (default: env TRAINPLAN_DB, else the database of the last refresh or demo, "
        "else .trainplan/trainplan.duckdb).",
    ),
]
PolicyOption = Annotated[Path | None, typer.Option("--policy", help="Routing policy YAML.")]
PlanArgument = Annotated[Path, typer.Argument(help="A plan (file, training_plan folder or output root).")]
WaitOption = Annotated[
    float,
    typer.Option("--wait", min=0, help="Seconds to wait for another writer of the same database or plan folder."),
]
LedgerOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        help="Job ledger folder (default: <plan root>/globals/training_runs of --plan, else of the last refresh).",
    ),
]
