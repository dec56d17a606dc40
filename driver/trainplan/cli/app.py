"""The one `trainplan` Typer app and its one error boundary.

Every `TrainplanError` a command raises ends here as one line on stderr and exit code 2; any other exception is
a bug and keeps its traceback. Commands (in the sibling modules) only parse arguments and call plain functions.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from trainplan.errors import TrainplanError

PIPED_WIDTH = 200  # tables printed to a pipe or file (rich would otherwise squeeze them into 80 columns)


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):  # stdout may not be a file descriptor (tests)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader went away (`trainplan explain ... | head`): not an error, exit 0 (rich's default is 1)."""
        _silence_stdout()
        raise typer.Exit(code=0)


def make_console(*, stderr: bool = False) -> Console:
    """A console for the commands' output: on a terminal it wraps to the window; piped or redirected, lines are
    never wrapped, so printed paths can be copied and parsed."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    width = None if terminal or os.environ.get("COLUMNS") else PIPED_WIDTH
    return _Console(stderr=stderr, soft_wrap=not terminal, width=width)


class _ErrorBoundary(TyperGroup):
    """The command group that turns a user's error into one line and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrainplanError as err:
            console = make_console(stderr=True)
            console.print("[bold red]error:[/] ", end="")
            console.print(str(err), soft_wrap=True, markup=False, highlight=False)
            raise typer.Exit(code=err.exit_code) from None
        except BrokenPipeError:
            _silence_stdout()  # the reader went away: not an error; nothing more to flush at exit
            raise typer.Exit(code=0) from None


app = typer.Typer(
    cls=_ErrorBoundary,
    help="Decide where to train models for every (target, symbol) pair, and hand training a plan it follows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
