"""Report benchmark: `trainplan report` on a plan of TARGETS x SYMBOLS pairs (default 200 x 5,000 = 1,000,000, plus
one CS row per target), built directly in SQL by `bench.plan_db` and exported once (master plan and
routing_plan.json). Each measurement runs in its own process and prints its time, CPU time, peak RSS and the size of
the page; then headless Chromium opens the page offline and the time until every chart has rendered is measured.

    .venv/bin/python -m bench.report [--targets 200] [--symbols 5000] [--repeat 2] [--workdir DIR] [--no-browser]

Modes: `report` (the page alone) and `report --previous` (the same plan given as the previous one: every pair is
compared, none changed). The database and files go to a temporary folder (removed afterwards) unless --workdir is
given; the timings do not include building the database or exporting the plan.
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
t0 = time.perf_counter()
from trainplan.report.build import write_report
plan, db, out, previous = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
result = write_report(plan, db, out=out, previous=Path(previous) if previous else None)
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": ru.ru_utime + ru.ru_stime,
                  "peak_rss_mb": ru.ru_maxrss / 1024, "bytes": result.size, "charts": result.charts}))
"""
CHROMIUM = "/usr/bin/chromium"


def _measure(plan: Path, db: Path, out: Path, previous: Path | None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(plan), str(db), str(out), str(previous or "")],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _render_seconds(page: Path, profile: Path) -> float:
    """Seconds from opening the page (offline, Debian's Chromium) until every chart has rendered."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, offline=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            tab = context.new_page()
            t0 = time.perf_counter()
            tab.goto(page.as_uri())
            tab.wait_for_function("document.body.getAttribute('data-charts-rendered') !== null", timeout=600_000)
            seconds = time.perf_counter() - t0
            failed = tab.evaluate("document.body.getAttribute('data-charts-failed')")
        finally:
            context.close()
    if failed != "0":
        raise SystemExit(f"{failed} charts failed to render in {page}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--symbols", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        work.mkdir(parents=True, exist_ok=True)
        db = work / "plan.duckdb"
        if db.exists():
            db.unlink()
        t0 = time.perf_counter()
        build_plan_db(db, args.targets, args.symbols, dump_plan_as=("JSON",), training_plan_files=())
        plan = work / "plan"
        shutil.rmtree(plan, ignore_errors=True)
        subprocess.run(
            [str(Path(sys.executable).parent / "trainplan"), "export", "--out", str(plan), "--db", str(db)],
            check=True,
            capture_output=True,
        )
        pairs = args.targets * args.symbols
        print(f"{pairs:,} pairs ({args.targets} targets x {args.symbols} symbols): database and plan built in "
              f"{time.perf_counter() - t0:.1f} s (not timed below)")  # fmt: skip
        for label, previous in (("report", None), ("report --previous", plan)):
            runs = [_measure(plan, db, work / "report.html", previous) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            times = ", ".join(f"{r['seconds']:.1f}" for r in runs)
            print(
                f"{label:<20} {best['seconds']:6.1f} s (runs: {times}), CPU {best['cpu_seconds']:.1f} s, "
                f"peak RSS {best['peak_rss_mb']:,.0f} MB, page {best['bytes'] / 1e6:.1f} MB, {best['charts']} charts"
            )
        if not args.no_browser:
            seconds = [_render_seconds(work / "report.html", work / f"profile-{i}") for i in range(args.repeat)]
            print(f"{'Chromium render':<20} {min(seconds):6.1f} s (runs: {', '.join(f'{s:.1f}' for s in seconds)})")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
