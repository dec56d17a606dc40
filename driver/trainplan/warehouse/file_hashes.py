"""The SQL function `tp_file_sha256(path)`: the SHA-256 (hex) of a file's bytes, read in Python.

`stg_plan__input_files` hashes every raw file of the run with it. DuckDB's `sha256(content)` over `read_blob`
costs several times more for many small files (docs/performance.md), and both give the same digest. Registered
with trainplan's other SQL functions (`trainplan.warehouse.functions`).
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

from trainplan.warehouse.file_bytes import each_file

FUNCTION = "tp_file_sha256"


def file_sha256(paths: pa.Array) -> pa.Array:
    """The hex SHA-256 of each file in `paths` (null for a null path); a file that cannot be read raises, naming
    it, and fails the query."""
    digests = each_file(paths, lambda fh: hashlib.file_digest(fh, "sha256").hexdigest(), " for its SHA-256")
    return pa.array(digests, pa.string())
