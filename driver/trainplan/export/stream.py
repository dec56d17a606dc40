"""Streaming DuckDB query results into files without building Python objects per row.

A query returns its text already formatted (one row = one chunk of the file, separators included); the rows
arrive as Arrow record batches and the bytes of each batch's string buffer are written as they are. Memory stays
at one batch whatever the number of rows.

The jobs' text is the exception: it is fetched once into Arrow (`fetch_table`) and every file that holds jobs
(the master plan, the derived views) is cut from those bytes: the master writes the buffers as they are, a view
regroups them with Arrow `take` (`partition_batches`), so no job is formatted or sorted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

BATCH_ROWS = 65_536


class ExportCancelled(RuntimeError):
    """A writer running beside the main export stopped because the export already failed."""


def _offsets(arr: pa.Array) -> memoryview:
    code = "q" if pa.types.is_large_string(arr.type) else "i"
    return memoryview(arr.buffers()[1]).cast("B").cast(code)


def _span(arr: pa.Array, start: int, stop: int) -> memoryview:
    """The raw UTF-8 bytes of rows [start, stop) of a string array (nulls count as empty)."""
    offsets = _offsets(arr)
    data = arr.buffers()[2]
    if data is None:
        return memoryview(b"")
    lo, hi = offsets[arr.offset + start], offsets[arr.offset + stop]
    return memoryview(data)[lo:hi]


def _batches(con: duckdb.DuckDBPyConnection, sql: str, params: list | None) -> Iterator[pa.RecordBatch]:
    reader = con.execute(sql, params or []).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        if batch.num_rows:
            yield batch


def write_rows(
    fh: BinaryIO, con: duckdb.DuckDBPyConnection, sql: str, *, skip_first: int = 0, hasher: Any = None
) -> int:
    """Write the single text column of `sql`, in order; the first `skip_first` bytes are dropped. Returns rows.

    `hasher` (a hashlib object), when given, is updated with every byte written."""
    rows = 0
    for batch in _batches(con, sql, None):
        chunk = _span(batch.column(0), 0, batch.num_rows)
        if rows == 0 and skip_first:
            chunk = chunk[skip_first:]
        fh.write(chunk)
        if hasher is not None:
            hasher.update(chunk)
        rows += batch.num_rows
    return rows


def _run_changes(keys: pa.Array) -> pa.Array:
    """For each row but the first, whether it starts a new run of equal keys (a null key equals only a null)."""
    prev, cur = keys[:-1], keys[1:]
    return pc.fill_null(pc.or_kleene(pc.not_equal(prev, cur), pc.xor(pc.is_null(prev), pc.is_null(cur))), False)


def _runs(keys: pa.Array, changes: pa.Array | None = None) -> Iterator[tuple[int, int, str | None]]:
    """(start, stop, key) of the runs of equal keys in a batch (`changes`: `_run_changes(keys)`, if computed)."""
    if len(keys) > 1:
        changes = _run_changes(keys) if changes is None else changes
        starts = [0] + [i + 1 for i in pc.indices_nonzero(changes).to_pylist()]
    else:
        starts = [0] if len(keys) else []
    for start, stop in zip(starts, [*starts[1:], len(keys)], strict=True):
        yield start, stop, keys[start].as_py()


def fetch_table(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The whole result of `sql` as an Arrow table, in query order (the connection preserves insertion order).

    The relation API collects the Arrow result in parallel, one chunk per collector (`execute().fetch...` converts
    on one thread); the chunks are kept as they are. Strings come as large_string when the connection sets
    arrow_large_buffer_size (no 2 GB limit)."""
    table = con.sql(sql).to_arrow_table()
    if table.num_rows == 0:  # no rows may come as no chunk: make it one empty chunk per column
        return pa.Table.from_arrays([pa.array([], field.type) for field in table.schema], schema=table.schema)
    return table


def _chunks(arr: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]


def write_array(fh: BinaryIO, arr: pa.Array | pa.ChunkedArray, *, skip_first: int = 0, hasher: Any = None) -> None:
    """Write the bytes of a string array (or of each chunk, in order) as they are; the first `skip_first` bytes
    of the first row are dropped."""
    for chunk in _chunks(arr):
        data = _span(chunk, 0, len(chunk))
        if skip_first and len(chunk):
            data, skip_first = data[skip_first:], 0
        fh.write(data)
        if hasher is not None:
            hasher.update(data)


def array_bytes(arr: pa.Array | pa.ChunkedArray) -> Iterator[memoryview]:
    """The UTF-8 bytes of a string array, chunk by chunk."""
    for chunk in _chunks(arr):
        yield _span(chunk, 0, len(chunk))


def partition_batches(
    keys: pa.Array, texts: pa.Array, *, rows: int = BATCH_ROWS
) -> Iterator[tuple[pa.Array, pa.Array]]:
    """(keys, texts) batches of the rows whose key is not null, grouped by key (groups in the order their key first
    appears) and, within a group, in their original order (a stable sort of the key's dictionary code)."""
    encoded = pc.dictionary_encode(keys)
    codes = encoded.indices
    order = pc.sort_indices(codes)  # stable; null keys sort last
    present = len(codes) - codes.null_count
    for start in range(0, present, rows):
        idx = order.slice(start, min(rows, present - start))
        yield pc.take(encoded.dictionary, pc.take(codes, idx)), pc.take(texts, idx)


def run_slices(table: pa.Table, *, max_runs: int) -> list[tuple[pa.Array, pa.Array]] | None:
    """(keys, texts) zero-copy slices of a two-column table (key, text), one per run of equal non-null keys in
    row order, grouped by key (groups in the order their key first appears, a group's runs in row order): the
    same rows and order as `partition_batches`, without copying the text. None when the rows hold more than
    `max_runs` runs (the keys are fragmented: `partition_batches` is then cheaper than a write per run)."""
    groups: dict[str, list[tuple[pa.Array, pa.Array]]] = {}
    runs = 0
    for batch in table.to_batches():
        keys, texts = batch.column(0), batch.column(1)
        if len(keys) == 0:
            continue
        changes = _run_changes(keys) if len(keys) > 1 else None
        runs += 1 + (pc.sum(changes).as_py() if changes is not None else 0)
        if runs > max_runs:  # counted before any run is listed: a fragmented view costs one vectorised pass
            return None
        for start, stop, key in _runs(keys, changes):
            if key is not None:
                groups.setdefault(key, []).append((keys.slice(start, stop - start), texts.slice(start, stop - start)))
    return [piece for pieces in groups.values() for piece in pieces]


def write_partitioned(
    batches: Iterable[tuple[pa.Array, pa.Array]],
    path_for: Callable[[str], Path],
    header_for: Callable[[str], bytes],
    footer: bytes,
    *,
    skip_first: int = 0,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[str]:
    """One file per key: `batches` hold (key, text) rows grouped by key (`partition_batches`); returns the keys
    written, in order. Stops with ExportCancelled between batches once `cancelled()` is true."""
    keys_written: list[str] = []
    fh: BinaryIO | None = None
    current: str | None = None
    try:
        for keys, texts in batches:
            if cancelled():
                raise ExportCancelled("the export failed elsewhere; stopped writing views")
            for start, stop, key in _runs(keys):
                chunk = _span(texts, start, stop)
                if fh is None or key != current:
                    if fh is not None:
                        fh.write(footer)
                        fh.close()
                    fh = path_for(key).open("xb")
                    current = key
                    keys_written.append(key)
                    fh.write(header_for(key))
                    chunk = chunk[skip_first:]
                fh.write(chunk)
        if fh is not None:
            fh.write(footer)
    finally:
        if fh is not None:
            fh.close()
    return keys_written


def write_grouped(
    fh: BinaryIO,
    con: duckdb.DuckDBPyConnection,
    sql: str,
    groups: list[str],
    header_for: Callable[[str], bytes],
    footer_for: Callable[[str], bytes],
    *,
    skip_first: int = 0,
    hasher: Any = None,
) -> None:
    """One file, one section per group: `sql` returns (group, text) ordered like `groups` (which lists every group,
    also those without rows); each section is header, its rows (the first `skip_first` bytes of its first row
    dropped), footer. `hasher`, when given, is updated with every byte written."""
    pending = iter(groups)

    def write(data: bytes | memoryview) -> None:
        fh.write(data)
        if hasher is not None:
            hasher.update(data)

    current: str | None = None

    def advance_to(key: str | None) -> None:
        nonlocal current
        while True:
            if current is not None:
                write(footer_for(current))
                current = None
            nxt = next(pending, None)
            if nxt is None:
                if key is not None:
                    raise ValueError(f"row of group {key!r} out of order or not in the group list")
                return
            current = nxt
            write(header_for(nxt))
            if nxt == key:
                return

    for batch in _batches(con, sql, None):
        for start, stop, key in _runs(batch.column(0)):
            chunk = _span(batch.column(1), start, stop)
            if key != current:
                advance_to(key)
                chunk = chunk[skip_first:]
            write(chunk)
    advance_to(None)
