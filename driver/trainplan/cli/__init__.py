"""The `trainplan` command line: parses arguments and calls the stages; nothing else.

Reads the command line and environment; writes what the called stage writes. One app (`app.py`) with one error
boundary; one module per command group, each registering its commands when imported (in help order below).
"""

from __future__ import annotations

# The imports register the commands: their order is the order of `trainplan --help`.
# isort: off
from trainplan.cli.app import app
from trainplan.cli.refresh import demo, export_cmd, refresh_cmd
from trainplan.cli.samples import sample
from trainplan.cli.inspect import diff_cmd, explain_cmd, sql_cmd, summary_cmd, validate_cmd
from trainplan.cli.train import runs_cmd, train_cmd
from trainplan.cli.report import report_cmd

# isort: on

COMMANDS = (
    refresh_cmd,
    demo,
    export_cmd,
    sample,
    summary_cmd,
    explain_cmd,
    diff_cmd,
    validate_cmd,
    sql_cmd,
    train_cmd,
    runs_cmd,
    report_cmd,
)


def main() -> None:
    """The console script."""
    app()


__all__ = ["COMMANDS", "app", "main"]
