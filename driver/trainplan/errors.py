"""The one base class of every error a user can cause.

The CLI's single error boundary (`trainplan.cli.main`) prints a `TrainplanError` as one line and exits 2; any other
exception is a bug and keeps its traceback. Each stage defines its own subclasses beside the code that raises them.
"""

from __future__ import annotations


class TrainplanError(Exception):
    """A problem with the user's input, options or files; the message names the file, the key and what was expected."""

    exit_code = 2
