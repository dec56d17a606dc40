"""Publishing a plan's folders as one set, atomically: a reader sees the previous plan or the new one, never a mix.

Layout under `<root>/globals/` (relative links, so the run directory can be moved or copied):

    .plan-<token>/routing_plan/...      one complete plan per folder; the token is unique per export
    .plan-<token>/training_plan/...
    .plan-current -> .plan-<token>      the published plan: replaced by one rename(2), the only commit point
    routing_plan  -> .plan-current/routing_plan
    training_plan -> .plan-current/training_plan

An export writes every file into a fresh `.plan-<token>` beside the destination, then replaces the `.plan-current`
link. A failure or a kill before that rename leaves the previous plan current and whole (the half-written folder is
removed by the next export); after it the new plan is complete. Because every export writes a whole new folder,
files of targets or symbols that no longer exist cannot survive. A `routing_plan/` or `training_plan/` that is a
real folder (a plan the reference wrote) is exchanged for the link with renameat2(RENAME_EXCHANGE) where the
system has it, else moved aside first (that one-time conversion has a short window without the folder).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

CURRENT = ".plan-current"
PLAN_PREFIX = ".plan-"
# threads that unlink a stale plan's files: a synced copy of a 4 GB plan of 5,029 files took 1.7-1.9 s to remove
# with shutil.rmtree and 1.1-1.2 s with four threads (docs/performance.md)
REMOVAL_THREADS = 4


def _fresh_token() -> str:
    return secrets.token_hex(6)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _replace_with_link(path: Path, target: str) -> None:
    """Make `path` a symlink to `target`, atomically when `path` is absent or already a link."""
    if path.is_symlink() and os.readlink(path) == target:
        return
    tmp = path.with_name(f"{PLAN_PREFIX}link-{_fresh_token()}")
    os.symlink(target, tmp)
    if path.is_symlink() or not path.exists():
        os.replace(tmp, path)
        return
    # a real folder from an earlier writer: exchange it for the link, then remove it
    if _exchange(tmp, path):
        shutil.rmtree(tmp, ignore_errors=True)
        return
    aside = path.with_name(f"{PLAN_PREFIX}legacy-{_fresh_token()}")
    os.replace(path, aside)
    os.replace(tmp, path)
    shutil.rmtree(aside, ignore_errors=True)


def current_plan_dir(globals_dir: Path) -> Path | None:
    link = globals_dir / CURRENT
    return globals_dir / os.readlink(link) if link.is_symlink() else None


def publish(globals_dir: Path, staging: Path, folders: tuple[str, ...]) -> None:
    """Make `staging` (a `.plan-<token>` folder inside globals_dir) the current plan, then remove older ones."""
    tmp = globals_dir / f"{PLAN_PREFIX}link-{_fresh_token()}"
    os.symlink(staging.name, tmp)
    os.replace(tmp, globals_dir / CURRENT)  # the commit point
    for folder in folders:
        _replace_with_link(globals_dir / folder, f"{CURRENT}/{folder}")
    remove_stale(globals_dir)


def remove_stale(globals_dir: Path) -> None:
    """Remove plan folders that are not current: earlier plans and leftovers of failed or killed exports."""
    current = current_plan_dir(globals_dir)
    for entry in globals_dir.iterdir():
        if not entry.name.startswith(PLAN_PREFIX) or entry.name == CURRENT:
            continue
        if current is not None and entry.name == current.name:
            continue
        if entry.is_symlink() or entry.is_file():
            entry.unlink(missing_ok=True)
        else:
            _remove_tree(entry)


def _remove_tree(folder: Path) -> None:
    """Remove `folder` and everything in it, leaving what cannot be removed, as `shutil.rmtree(folder,
    ignore_errors=True)` does, with the files unlinked on several threads: the kernel's work of freeing a large plan's
    blocks then runs on both cores (docs/performance.md). A link met on the way is removed, never followed; a `folder`
    that is not a folder, a link to one included, is left alone. The walk goes by path, not by open folder handles
    as rmtree does, so it relies on nothing swapping parts of this stale folder for links while it runs: the folder
    is trainplan's own, inside the plan root (whose writer lock `trainplan refresh` and `export` hold)."""
    with suppress(OSError):
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return
    files: list[str] = []
    folders: list[str] = []
    pending = [str(folder)]
    while pending:
        path = pending.pop()
        folders.append(path)  # before anything below it
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    else:
                        files.append(entry.path)
        except OSError:
            continue  # what cannot be listed is left to rmtree below
    # RuntimeError: no thread could be started (a thread limit); rmtree below then removes the files
    with suppress(RuntimeError), ThreadPoolExecutor(REMOVAL_THREADS, thread_name_prefix="plan-removal") as pool:
        list(pool.map(_unlink_quietly, files))  # list(): any error but OSError is raised here
    for path in reversed(folders):  # each folder after every folder below it
        with suppress(OSError):
            os.rmdir(path)
    shutil.rmtree(folder, ignore_errors=True)  # whatever the steps above could not remove


def _unlink_quietly(path: str) -> None:
    with suppress(OSError):  # as rmtree(ignore_errors=True): what cannot be removed is left, no error
        os.unlink(path)


@contextmanager
def staged_plan(globals_dir: Path, folders: tuple[str, ...], *, publish_on_exit: bool = True) -> Iterator[Path]:
    """A fresh folder to write the plan's folders into; published as a set on success (unless the caller publishes
    it later with `publish`), removed on error."""
    globals_dir.mkdir(parents=True, exist_ok=True)
    staging = globals_dir / f"{PLAN_PREFIX}{_fresh_token()}"
    staging.mkdir()
    for folder in folders:
        (staging / folder).mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if publish_on_exit:
        publish(globals_dir, staging, folders)
