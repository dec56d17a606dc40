"""Recognising a FoxML run directory before anything reads it."""

from __future__ import annotations

from pathlib import Path

from trainplan.errors import TrainplanError

EXPECTED_LAYOUT = (
    "a FoxML run directory: <run>/targets/<target>/reproducibility/CROSS_SECTIONAL/cohort=<id>/metrics.json "
    "and <run>/targets/<target>/reproducibility/SYMBOL_SPECIFIC/symbol=<SYM>/cohort=<id>/metrics.json "
    "(optionally <run>/globals/run_context.json)"
)


# Characters dbt's SQL cannot hold in a path it reads: "'" ends a SQL string, and DuckDB reads "[", "*", "?" and "\\"
# in a path as glob syntax, so a run directory named with one lists no file (or another folder's files). The macros
# foxml_run_dir() and candidates_file() (macros/input_paths.sql) refuse the same characters for plain dbt.
UNREADABLE_PATH_CHARACTERS = ("'", "[", "*", "?", "\\")


class NotARunDirectory(TrainplanError, ValueError):
    """The path given as a run directory does not have the FoxML layout."""


class UnreadablePath(TrainplanError, ValueError):
    """An input path holds a character that dbt's SQL would read as glob syntax or as the end of a string."""


def check_readable_path(path: Path, option: str) -> None:
    """Raise, naming the path, the option and the characters, when `path` (absolute, links resolved) holds one of
    UNREADABLE_PATH_CHARACTERS."""
    found = [char for char in UNREADABLE_PATH_CHARACTERS if char in str(path)]
    if found:
        raise UnreadablePath(
            f"{path}: {option} holds {' '.join(found)}, which DuckDB would read as glob syntax or the end of a SQL "
            f"string; expected a path without {' '.join(UNREADABLE_PATH_CHARACTERS)} (rename or move the folder: dbt "
            "reads the path a link resolves to)"
        )


def check_run_dir(path: Path) -> Path:
    """Return the absolute run directory, or raise naming the layout that was expected."""
    if not path.exists():
        raise NotARunDirectory(f"{path}: does not exist; expected {EXPECTED_LAYOUT}")
    if not path.is_dir():
        raise NotARunDirectory(f"{path}: is not a directory; expected {EXPECTED_LAYOUT}")
    check_readable_path(path.resolve(), "the run directory")
    targets = path / "targets"
    if not targets.is_dir():
        raise NotARunDirectory(f"{path}: has no targets/ folder; expected {EXPECTED_LAYOUT}")
    for target in sorted(targets.iterdir()):
        if (target / "reproducibility").is_symlink():  # the build's listing refuses it too, later (run_listing)
            raise NotARunDirectory(
                f"{target / 'reproducibility'}: is a symbolic link; trainplan lists a run's files without following "
                "links in a target's reproducibility/ (a target folder may be one); expected the folder itself"
            )
    if not any(t.is_dir() and (t / "reproducibility").is_dir() for t in targets.iterdir()):
        raise NotARunDirectory(
            f"{path}: no targets/<target>/reproducibility/ folder under targets/; expected {EXPECTED_LAYOUT}"
        )
    return path.resolve()
