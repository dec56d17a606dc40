"""The dbt child process of a refresh: `python -m trainplan.warehouse.dbt_child build ...` runs dbt's own command
line (what the `dbt` script runs), with Python's garbage collector set for a process that lives one build.

- Fewer collections. A build makes and drops millions of Python objects (dbt's Jinja contexts, events, results) and
  keeps a large graph alive throughout (the manifest, the macros): with Python's default thresholds the collector
  walks that graph again and again. A warm S refresh spent about 0.3 s of dbt's time in it.
- No final collection of what dbt kept. After the build, `gc.freeze()` moves every live object out of the
  collector's reach, so the interpreter's exit frees them without first searching them for cycles (0.4 s on S).
  The exit is otherwise the normal one: dbt-duckdb closes the database in its `atexit` handler, which writes
  DuckDB's last checkpoint. `dbt_runner.build_database` still folds a WAL left beside the database into it.

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

    try:
        cli.main(args=argv, prog_name="dbt")
    except SystemExit as done:
        status = done.code
    else:
        status = 0
    gc.freeze()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
