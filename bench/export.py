"""Export benchmark: a plan of TARGETS x SYMBOLS symbol jobs (default 200 x 5,000 = 1,000,000, plus one CS job per
target) exported by `trainplan export`, beside the floor: DuckDB COPYing the same training_jobs rows to JSON with
no logic. Each measurement runs in its own process (time and peak RSS of that process).

    .venv/bin/python -m bench.export [--targets 200] [--symbols 5000] [--workdir DIR]

The database and outputs go to a temporary folder (removed afterwards) unless --workdir is given.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.plan_db import build_plan_db

CHILD = """
import json, resource, sys, time
from pathlib import Path
import duckdb
mode, db, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
con = duckdb.connect(db, read_only=True)
con.execute("set threads = 2"); con.execute("set enable_progress_bar = false")
t0 = time.perf_counter()
if mode == "floor":
    out.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy (select * from training_jobs order by job_order) to '{out / 'jobs.json'}' (format json, array true)")
else:
    from driver.export import export_plan
    export_plan(con, plan_root=out, project=Path.cwd())
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _measure(mode: str, db: Path, out: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(db), str(out)], capture_output=True, text=True, check=True
    )
    return json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--symbols", type=int, default=5000)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, alternating; the fastest is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        db = build_plan_db(work / "plan.duckdb", args.targets, args.symbols)
        print(f"built database: {args.targets} targets x {args.symbols} symbols in {time.perf_counter() - t0:.1f}s")
        floors, exports = [], []
        for i in range(args.repeat):  # alternate, so both see the same machine load
            for mode, runs in (("floor", floors), ("export", exports)):
                out = work / f"{mode}{i}"
                runs.append({**_measure(mode, db, out), "mb": _size_mb(out)})
                shutil.rmtree(out)
            print(f"run {i + 1}: floor {floors[-1]['seconds']:.2f}s, export {exports[-1]['seconds']:.2f}s")
        floor = min(floors, key=lambda m: m["seconds"])
        export = min(exports, key=lambda m: m["seconds"])
        print(
            f"floor  (COPY training_jobs TO json): {floor['seconds']:.2f}s, peak RSS {floor['peak_rss_mb']:.0f} MB, "
            f"{floor['mb']:.0f} MB written"
        )
        print(
            f"export (both plans, all files):      {export['seconds']:.2f}s, peak RSS {export['peak_rss_mb']:.0f} MB, "
            f"{export['mb']:.0f} MB written"
        )
        print(f"ratio export / floor: {export['seconds'] / floor['seconds']:.2f}")


if __name__ == "__main__":
    main()
