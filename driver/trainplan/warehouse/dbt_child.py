"""The dbt child process of a refresh: `python -P -m trainplan.warehouse.dbt_child build ...` runs dbt's own
command line (what the `dbt` script runs), with Python's garbage collector set for a process that lives one build.

dbt keeps a large graph of Python objects alive for the whole build (its manifest, macros and Jinja templates)
while it makes and drops millions of others (Jinja contexts, events, results):

- Fewer collections. With Python's default thresholds, (700, 10, 10), the collector walks the kept graph again and
  again; with (10000, 10, 10) a warm S refresh took about 0.5 s less, and M the same time and memory within its
  noise.
- No last collection at exit. As the interpreter exits it searches everything still alive for cycles before
  freeing it (0.4 s on S, after dbt has written its results). `gc.freeze()` once dbt is done moves every live
  object out of the collector's reach, so the exit frees them without that search (what only a cycle holds is
  then never freed, nor finalized). The exit is otherwise the normal one: dbt-duckdb's `atexit` handler drops its
  environment, whose `__del__` closes DuckDB and so writes its last checkpoint; should a cycle hold it,
  `dbt_runner.build_database` folds the WAL left beside the database into it (`fold_wal`).

docs/performance.md has the measurements.
"""

from __future__ import annotations

import gc
import sys

GC_THRESHOLDS = (10_000, 10, 10)  # Python's default: (700, 10, 10)


def main(argv: list[str]) -> int | str | None:
    """dbt's command line with `argv`; returns its exit status."""
    gc.set_threshold(*GC_THRESHOLDS)
    from dbt.cli.main import cli  # imported once the thresholds are set: importing dbt makes most of its objects

    status: int | str | None = 0
    try:
        cli.main(args=argv, prog_name="dbt")  # as the `dbt` script: click ends it with SystemExit(<status>)
    except SystemExit as done:
        status = done.code
    gc.freeze()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
