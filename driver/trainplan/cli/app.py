"""The one `trainplan` Typer app and its one error boundary.

Every `TrainplanError` a command raises ends here as one line on stderr and exit code 2; any other exception is
a bug and keeps its traceback. Commands (in the sibling modules) only parse arguments and call plain functions.
"""

from __future__ import annotations

from typing import Any

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from trainplan.errors import TrainplanError


class _ErrorBoundary(TyperGroup):
    """The command group that turns a user's error into one line and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrainplanError as err:
            console = Console(stderr=True)
            console.print("[bold red]error:[/] ", end="")
            console.print(str(err), soft_wrap=True, markup=False, highlight=False)
            raise typer.Exit(code=err.exit_code) from None


app = typer.Typer(
    cls=_ErrorBoundary,
    help="Decide where to train models for every (target, symbol) pair, and hand training a plan it follows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
