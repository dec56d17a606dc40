"""One writer at a time: advisory file locks that the operating system releases when the holder dies.

A lock is `flock(2)` on a small file beside what it protects (`<db>.lock`, `<plan root>/globals/.lock`); the file
also holds the holder's pid and command line, so a refused writer can say who holds it. A holder killed with
SIGKILL releases the lock at once (the kernel closes its descriptors); the file staying behind means nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from trainplan.errors import TrainplanError

POLL_SECONDS = 0.1


class LockHeld(TrainplanError):
    """Another process writes the same database or output folder."""


def _holder(path: Path) -> str:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {doc['pid']} on {doc['host']} ({doc['command']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def exclusive(path: Path, what: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock file `path` for the block; wait up to `wait` seconds for it, then raise LockHeld."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockHeld(
                        f"{path}: {what} is being written by {_holder(path)}; "
                        f"expected no other writer (retry later, or pass --wait SECONDS)"
                    ) from None
                time.sleep(POLL_SECONDS)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def exclusive_all(locks: list[tuple[Path, str]], wait: float = 0.0) -> Iterator[None]:
    """Several locks, always taken in path order (two writers never wait on each other in a cycle)."""
    with ExitStack() as stack:
        for path, what in sorted(set(locks)):
            stack.enter_context(exclusive(path, what, wait))
        yield
