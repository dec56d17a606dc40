"""The SQL function `tp_file_sha256(path)`: the SHA-256 (hex) of a file's bytes, read in Python.

`stg_plan__input_files` hashes every raw file of the run with it. DuckDB's `sha256(content)` over `read_blob`
costs several times more for many small files (docs/performance.md), and both give the same digest. Registered
with trainplan's other SQL functions (`trainplan.warehouse.functions`).
"""

from __future__ import annotations

import hashlib
import os

import pyarrow as pa

from trainplan.warehouse import file_bytes

FUNCTION = "tp_file_sha256"


def file_sha256(paths: pa.Array) -> pa.Array:
    """The hex SHA-256 of each file in `paths` (null for a null path); a file that cannot be read raises, naming
    it, and fails the query."""
    return pa.array(file_bytes.each_file(paths, _sha256, " for its SHA-256"), pa.string())


def _sha256(fd: int) -> str:
    """The hex SHA-256 of the open file `fd`, read to its end in chunks of at most `file_bytes.CHUNK` bytes (memory
    stays small for a large file). `hashlib.file_digest` over a file object costs twice as much per small file (it
    allocates a 256 KiB buffer for each): M's 120,329 files in the page cache, 1.6-1.7 s against 0.8 s
    (docs/performance.md)."""
    digest = hashlib.sha256()
    # its own loop, not file_bytes.read_all's: a digest needs no fstat for the size, and sharing a chunk generator
    # cost 0.15 s more on M's files (0.96-1.0 s against 0.82-0.85 s)
    while chunk := os.read(fd, file_bytes.CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
