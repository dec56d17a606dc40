"""The SQL function `tp_run_files(folder)`: every file in the target folders of a run's `targets/` folder.

`stg_foxml__run_files`, the one listing of the run directory per build, calls it; every staging model of a file
under `targets/` reads the listed files, and `stg_plan__input_files` hashes them. The rule (README "What is read"):

- each folder directly in `folder` is a target folder, followed when it is a symbolic link;
- below a target folder every regular file is listed, at any depth, hidden ones too, and so is a symbolic link
  that is not to a folder (reads follow it; a link to nothing fails the read that needs it, naming it);
- a symbolic link to a folder below a target folder is an error naming it: its files would be left out unread
  (a linked cohort folder would lose its evidence), and following it could loop;
- a folder that cannot be listed is an error naming it.

DuckDB's glob (`targets/*/**`), which listed the run before, walked the same tree two to three times slower and
left every link below a target folder out without a word. Registered like `tp_file_sha256`
(`trainplan.warehouse.functions`).
"""

from __future__ import annotations

import os
import stat

import pyarrow as pa

FUNCTION = "tp_run_files"


class RunListingError(OSError):
    """A run's target folders cannot be listed as they are (unreadable, or a folder reached through a link)."""


def _scan(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError as err:
        raise RunListingError(f"{folder}: cannot be listed ({err.strerror or err})") from err


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _target_files(target: str, found: list[str]) -> None:
    """Append every file below the target folder `target` to `found` (links below it not followed)."""
    pending = [target]
    while pending:
        for entry in _scan(pending.pop()):
            if entry.is_symlink():
                if _is_folder(entry):
                    raise RunListingError(
                        f"{entry.path}: is a symbolic link to a folder; trainplan lists a run's files without "
                        "following links below a target folder (a target folder may be one); expected the folder "
                        "itself"
                    )
                found.append(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
                found.append(entry.path)


def list_run_files(targets: str) -> list[str]:
    """The files in the target folders of `targets` (a run's targets/ folder), sorted."""
    found: list[str] = []
    for entry in _scan(targets):
        if _is_folder(entry):
            _target_files(entry.path, found)
    return sorted(found)


def run_files(folders: pa.Array) -> pa.Array:
    """`list_run_files` of each folder in `folders` (null for a null folder: no run directory)."""
    listed = [None if folder is None else list_run_files(folder) for folder in folders.to_pylist()]
    return pa.array(listed, pa.list_(pa.string()))
