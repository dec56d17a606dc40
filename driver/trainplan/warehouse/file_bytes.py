"""The SQL function `tp_file_bytes(path)`: a file's bytes, read in Python.

The staging models of the files under a run's `targets/` read the listed files with it (macro `listed_input`):
DuckDB's `read_blob` takes its files as a list literal in the model's SQL (M: 13 MB of SQL naming 50,000 files for
one model) and took twice the time for the same rows (docs/performance.md). Registered with trainplan's other SQL
functions (`trainplan.warehouse.functions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO, TypeVar

import pyarrow as pa

FUNCTION = "tp_file_bytes"


T = TypeVar("T")


def each_file(paths: pa.Array, read: Callable[[BinaryIO], T], purpose: str = "") -> list[T | None]:
    """`read` of each file in `paths`, opened for bytes (None for a null path); a file that cannot be read raises,
    naming it and `purpose` ("cannot be read<purpose> (<reason>)"), and fails the query."""
    results: list[T | None] = []
    for path in paths.to_pylist():
        if path is None:
            results.append(None)
            continue
        try:
            with open(path, "rb") as fh:
                results.append(read(fh))
        except OSError as err:
            raise OSError(f"{path}: cannot be read{purpose} ({err.strerror or err})") from err
    return results


def file_bytes(paths: pa.Array) -> pa.Array:
    """The bytes of each file in `paths` (null for a null path); a file that cannot be read raises, naming it, and
    fails the query."""
    contents = each_file(paths, lambda fh: fh.read())
    return pa.array(contents, pa.large_binary())  # 64-bit offsets: a chunk of files may hold over 2 GB
