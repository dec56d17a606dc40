"""One `train` at a time per ledger: an exclusive `flock` on `<ledger>/.lock`.

The holder writes who it is (run id, pid, host, since) into the lock file, so a second `train` refuses naming it.
The kernel drops a flock when its holder dies, even by SIGKILL, so a stale lock never blocks; the text left in
the file by a dead holder is simply overwritten. The lock file descriptor is not inherited by workers or trainers
(Python opens files non-inheritable), so nothing but the `train` process holds it. On NFS, Linux emulates flock
with POSIX byte-range locks, which also works across hosts.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from trainplan.errors import TrainplanError, storage_errors

LOCK_FILE = ".lock"
MAX_COMMAND = 300


class LedgerBusy(TrainplanError):
    """Another `train` holds the ledger."""


@dataclass(frozen=True)
class Holder:
    run_id: str
    pid: int
    host: str
    since: str
    command: str = ""  # the holder's command line, as far as MAX_COMMAND characters

    def describe(self) -> str:
        command = f", command `{self.command}`" if self.command else ""
        return f"run {self.run_id} (pid {self.pid} on host {self.host}{command}, since {self.since})"


def this_command() -> str:
    """This process's command line, shortened to MAX_COMMAND characters."""
    text = shlex.join(sys.argv)
    return text if len(text) <= MAX_COMMAND else text[: MAX_COMMAND - 3] + "..."


def _read_holder(fd: int) -> Holder | None:
    for _ in range(5):  # the holder may be rewriting it this instant
        try:
            doc = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
            return Holder(
                str(doc["run_id"]), int(doc["pid"]), str(doc["host"]), str(doc["since"]), str(doc.get("command", ""))
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            time.sleep(0.05)
    return None


class LedgerLock:
    """Held for the life of a run; `release()` (or process death) frees it."""

    def __init__(self, ledger_dir: Path, holder: Holder) -> None:
        self.path = ledger_dir / LOCK_FILE
        with storage_errors("locking the training ledger", folder=ledger_dir):
            ledger_dir.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = _read_holder(self.fd)
            os.close(self.fd)
            who = other.describe() if other else "another train process (it has not said who it is yet)"
            raise LedgerBusy(
                f"the ledger {ledger_dir} is in use by {who}; wait for it to finish, stop it, "
                "or give this run another --ledger"
            ) from None
        text = json.dumps(holder.__dict__).encode("utf-8")
        try:
            with storage_errors("locking the training ledger", folder=ledger_dir):
                os.ftruncate(self.fd, 0)
                os.pwrite(self.fd, text, 0)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the last descriptor drops the flock
            self.fd = -1


def current_holder(ledger_dir: Path) -> Holder | None:
    """The run holding the ledger now, or None when no `train` holds it (a probe; it never blocks)."""
    try:
        fd = os.open(ledger_dir / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or Holder("?", 0, "?", "?")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
