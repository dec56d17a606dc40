"""The SQL function `tp_run_files(folder)`: every file in the target folders of a run's `targets/` folder.

`stg_foxml__run_files`, the one listing of the run directory per build, calls it; every staging model of a file
under `targets/` reads the listed files, and `stg_plan__input_files` hashes them. The rule (README "What is read"):

- each folder directly in `folder` is a target folder, followed when it is a symbolic link; a link there that
  cannot be followed (to nothing, or a loop) is an error naming it, since a target could be missing;
- below a target folder every regular file is listed, at any depth, hidden ones too, and so is a symbolic link to
  a regular file (reads follow it) or to nothing (the read that needs it fails, naming it); other kinds of file
  (a pipe, a device) are not, since a read would never end;
- a symbolic link to a folder in a target's `reproducibility/` (or that folder itself as a link) is an error naming
  it: its files would go unread (a linked cohort folder would lose its evidence), and following it could loop;
  elsewhere in a target folder such a link is left alone (nothing there is read);
- a folder that cannot be listed is an error naming it.

DuckDB's glob (`targets/*/**`), which listed the run before, took 2.8 s for M's 120,329 files where this takes
1.8-2.0 s (docs/performance.md), and left every link below a target folder out without a word. Registered with
the other SQL functions (`trainplan.warehouse.functions`).
"""

from __future__ import annotations

import os
import stat

import pyarrow as pa

FUNCTION = "tp_run_files"
EVIDENCE_FOLDER = "reproducibility"  # in a target folder: every file a staging model reads lies below it


class RunListingError(OSError):
    """A run's target folders cannot be listed as they are (unreadable, or a folder reached through a link)."""


def _scan(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError as err:
        raise RunListingError(f"{folder}: cannot be listed ({err.strerror or err})") from err


def _link_mode(path: str) -> int | None:
    """The file mode a symbolic link leads to (None when it leads nowhere: no file, a loop, no permission)."""
    try:
        return os.stat(path).st_mode
    except OSError:
        return None


def _target_files(target: str, found: list[str]) -> None:
    """Append every file below the target folder `target` to `found` (links below it not followed)."""
    evidence = os.path.join(target, EVIDENCE_FOLDER)
    pending = [target]
    while pending:
        for entry in _scan(pending.pop()):
            if entry.is_symlink():
                mode = _link_mode(entry.path)
                if mode is None or stat.S_ISREG(mode):
                    found.append(entry.path)
                elif stat.S_ISDIR(mode) and (entry.path == evidence or entry.path.startswith(evidence + os.sep)):
                    raise RunListingError(
                        f"{entry.path}: is a symbolic link to a folder; trainplan lists a run's files without "
                        f"following links in a target's {EVIDENCE_FOLDER}/ (a target folder may be one); expected "
                        "the folder itself"
                    )
            elif entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif entry.is_file(follow_symlinks=False):
                found.append(entry.path)


def list_run_files(targets: str) -> list[str]:
    """The files in the target folders of `targets` (a run's targets/ folder), sorted."""
    found: list[str] = []
    for entry in _scan(targets):
        if entry.is_symlink():
            mode = _link_mode(entry.path)
            if mode is None:
                raise RunListingError(
                    f"{entry.path}: is a symbolic link that cannot be followed (to nothing, or a loop); expected a "
                    "target folder or a link to one"
                )
            if stat.S_ISDIR(mode):
                _target_files(entry.path, found)
        elif entry.is_dir(follow_symlinks=False):
            _target_files(entry.path, found)
    return sorted(found)


def run_files(folders: pa.Array) -> pa.Array:
    """`list_run_files` of each folder in `folders` (null for a null folder: no run directory)."""
    listed = [None if folder is None else list_run_files(folder) for folder in folders.to_pylist()]
    return pa.array(listed, pa.list_(pa.string()))
