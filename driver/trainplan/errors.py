"""The one base class of every error a user can cause.

The CLI's single error boundary (`trainplan.cli.main`) prints a `TrainplanError` as one line and exits 2; any other
exception is a bug and keeps its traceback. Each stage defines its own subclasses beside the code that raises them.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class TrainplanError(Exception):
    """A problem with the user's input, options or files; the message names the file, the key and what was expected."""

    exit_code = 2


# errnos of a file system or path the user must fix (read-only, full, over quota, no permission, a file where a
# folder must be), not a bug
STORAGE_ERRNOS = frozenset(
    {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR}
)


class StorageError(TrainplanError):
    """A file or folder trainplan must write is read-only, full or not permitted."""


@contextmanager
def storage_errors(doing: str, outcome: str = "", folder: Path | None = None) -> Iterator[None]:
    """Turn a read-only, full or forbidden file system met while `doing` into one line naming the file (else the
    `folder` written to); `outcome` says what stays as it was (e.g. "the previous plan is unchanged")."""
    try:
        yield
    except OSError as err:
        if err.errno not in STORAGE_ERRNOS:
            raise
        where = err.filename if err.filename is not None else f"a file under {folder}" if folder else "a file"
        tail = f"; {outcome}" if outcome else ""
        raise StorageError(
            f"{where}: {err.strerror or err} while {doing}{tail}; expected a writable folder with free space"
        ) from err
