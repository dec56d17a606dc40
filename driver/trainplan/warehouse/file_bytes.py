"""The SQL function `tp_file_bytes(path)`: a file's bytes, read in Python.

The staging models of the files under a run's `targets/` read the listed files with it (macro `listed_input`):
DuckDB's `read_blob` takes its files as a list literal in the model's SQL (M: 13 MB of SQL naming 50,000 files for
one model) and took twice the time for the same rows (docs/performance.md). Registered with trainplan's other SQL
functions (`trainplan.warehouse.functions`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import pyarrow as pa

FUNCTION = "tp_file_bytes"
# the most bytes one os.read asks for when the file's size does not say (the SHA-256's reads, a file that grew)
CHUNK = 1 << 20


T = TypeVar("T")


def each_file(paths: pa.Array, read: Callable[[int], T], purpose: str = "") -> list[T | None]:
    """`read` of each file in `paths`, given the file's descriptor open for reading (None for a null path); a file
    that cannot be read raises, naming it and `purpose` ("cannot be read<purpose> (<reason>)"), and fails the query.

    Files are opened with `os.open`, not `open()`: a run holds 100,000 small files, and a buffered file object for
    each costs a fifth more (reading M's 120,329 files in the page cache: 0.75 s against 0.61 s;
    docs/performance.md)."""
    results: list[T | None] = []
    for path in paths.to_pylist():
        if path is None:
            results.append(None)
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                results.append(read(fd))
            finally:
                os.close(fd)
        except OSError as err:
            raise OSError(f"{path}: cannot be read{purpose} ({err.strerror or err})") from err
    return results


def read_all(fd: int) -> bytes:
    """Every byte of the open file `fd`, read to its end: one read of its size and one that finds the end, more if
    it grew, if the file system returned less than was asked for, or if its size says nothing (0, as in /proc)."""
    size = os.fstat(fd).st_size
    chunks = []
    want = size + 1 if size else CHUNK
    while chunk := os.read(fd, want):
        chunks.append(chunk)
        want = CHUNK
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def file_bytes(paths: pa.Array) -> pa.Array:
    """The bytes of each file in `paths` (null for a null path); a file that cannot be read raises, naming it, and
    fails the query."""
    return pa.array(each_file(paths, read_all), pa.large_binary())  # 64-bit offsets: a chunk may hold over 2 GB
