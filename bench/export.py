"""Export benchmark: a plan of TARGETS x SYMBOLS symbol jobs (default 200 x 5,000 = 1,000,000, plus one CS job per
target) exported by `trainplan export` with three file sets chosen by the policy, beside the floors: DuckDB COPYing
the same rows to JSON with no logic. Each measurement runs in its own process (time and peak RSS of that process).

    .venv/bin/python -m bench.export [--targets 200] [--symbols 5000] [--threads 2] [--repeat 2] [--workdir DIR]
                                     [--sets reference,json,plan]

File sets (`dump_plan_as` / `training_plan_files` of the policy):
- reference: JSON, YAML, MARKDOWN / all six: the reference's whole file set (the shipped config);
- json: JSON / none: master_training_plan.json (+ its mirror, a hard link) and routing_plan.json;
- plan: none / none: master_training_plan.json and its mirror only.
Every set also writes the routing candidates snapshot (parquet). Floors: `COPY training_jobs TO ... (FORMAT json)`
(the issue's floor: the same jobs) and `COPY routing_decisions ...` (the routing plan's rows); a set that writes
the routing plan is also compared with the sum of both floors, and the reference set with a plain copy of the
files it wrote (the storage's floor for those bytes and files).

Both processes use the same DuckDB `threads` setting (pin the benchmark with `taskset -c 1 ... --threads 1` on a
shared machine). Besides the totals it prints, for each export, the wall time of each writer (with the thread it
ran on: the master plan and the views are written by a worker thread beside the main thread's DuckDB queries) and,
for the reference set, the bytes of each file class. "MB written" counts each file once per inode: the mirror
training_plan.json is a hard link to the master, so it is listed but never written twice.

Before each run the file system is synced (not timed), so no run pays for the writeback of the one before it.
The database and outputs go to a temporary folder (removed afterwards) unless --workdir is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import duckdb

from bench.plan_db import build_plan_db

CHILD = """
import functools, json, resource, sys, threading, time
from pathlib import Path
import duckdb
mode, db, out, threads = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
con = duckdb.connect(db, read_only=True)
con.execute(f"set threads = {threads}"); con.execute("set enable_progress_bar = false")
steps = []
if mode == "export":
    import importlib
    from trainplan.export import export  # noqa: F401  (the steps below are patched in its modules)
    def timed(step):
        module_name, name = step.rsplit(".", 1)
        module = importlib.import_module(f"trainplan.export.{module_name}")
        real = getattr(module, name, None)
        if real is None:  # a step this version of the export does not have
            return
        @functools.wraps(real)
        def run(*args, **kwargs):
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                steps.append([name, threading.current_thread().name, time.perf_counter() - t])
        setattr(module, name, run)
    for name in sys.argv[5].split(","):
        timed(name)
def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime
c0, t0 = cpu(), time.perf_counter()
if mode == "floor":
    out.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy (select * from training_jobs order by job_order) to '{out / 'jobs.json'}' (format json, array true)")
elif mode == "floor_decisions":
    out.mkdir(parents=True, exist_ok=True)
    con.execute(
        "copy (select * from routing_decisions order by target, symbol nulls first) "
        f"to '{out / 'decisions.json'}' (format json, array true)"
    )
else:
    export.export_plan(con, plan_root=out, project=Path.cwd())
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu() - c0, "peak_rss_mb": peak, "steps": steps}))
"""

# the export's steps timed in the child (module.function under trainplan.export), in the order they start; the
# entry point calls each through its module, so patching the module's attribute times every call
STEPS = (
    "jobs.prepare",
    "header.build_header",
    "jobs.check_plan",
    "routing_files.write_candidates_snapshot",
    "jobs.fetch_jobs",
    "training_files.write_master",
    "training_files.write_views",
    "jobs.prepare_routes",
    "routing_files.write_routing_json",
    "routing_files.write_routing_rest",
    "routing_files._write_routing_markdown",
    "training_files._write_training_yaml",
    "training_files._write_training_markdown",
)

FILE_CLASSES = (
    ("routing_plan.json", "routing_plan/routing_plan.json"),
    ("routing_plan.yaml", "routing_plan/routing_plan.yaml"),
    ("routing_plan.md", "routing_plan/routing_plan.md"),
    ("routing_candidates.parquet", "routing_plan/routing_candidates.parquet"),
    ("master_training_plan.json", "training_plan/master_training_plan.json"),
    ("training_plan.json (hard link)", "training_plan/training_plan.json"),
    ("training_plan.yaml", "training_plan/training_plan.yaml"),
    ("training_plan.md", "training_plan/training_plan.md"),
    ("by_target/", "training_plan/by_target"),
    ("by_symbol/", "training_plan/by_symbol"),
    ("by_type/", "training_plan/by_type"),
    ("by_route/", "training_plan/by_route"),
)


def _measure(mode: str, db: Path, out: Path, threads: int) -> dict:
    # the previous run's dirty pages are flushed first (not timed): otherwise the kernel's writeback of gigabytes
    # written before throttles this run's writes, and each run pays for the one before it
    os.sync()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(db), str(out), str(threads), ",".join(STEPS)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def _written_mb(path: Path) -> float:
    """Bytes of the files under `path`, each inode once (a hard link is not a second write)."""
    inodes = {(p.stat().st_dev, p.stat().st_ino): p.stat().st_size for p in _files(path)}
    return sum(inodes.values()) / 1e6


def _file_classes(out: Path) -> list[tuple[str, int, float]]:
    base = out / "globals"
    rows = []
    for label, rel in FILE_CLASSES:
        files = _files(base / rel) if (base / rel).exists() else []
        rows.append((label, len(files), sum(p.stat().st_size for p in files) / 1e6))
    return rows


# name -> (dump_plan_as, training_plan_files, compared with the decisions floor too)
FILE_SETS = {
    "reference": (("JSON", "YAML", "MARKDOWN"), ("YAML", "MARKDOWN", "BY_TARGET", "BY_SYMBOL", "BY_TYPE", "BY_ROUTE")),
    "json": (("JSON",), ()),
    "plan": ((), ()),
}


def _with_files(db: Path, target: Path, dump_plan_as: tuple[str, ...], files: tuple[str, ...]) -> Path:
    """A copy of the benchmark database whose policy lists these formats and training plan files."""
    shutil.copyfile(db, target)
    con = duckdb.connect(str(target))
    try:
        con.execute(
            "update routing_policy set dump_plan_as = ?::varchar[], training_plan_files = ?::varchar[]",
            [list(dump_plan_as), list(files)],
        )
    finally:
        con.close()
    return target


def _copy_floor(tree: Path, target: Path) -> float:
    """Seconds to copy an exported tree (the same bytes and files, written with no logic; copy_file_range in the
    kernel), after a sync; the copy is removed."""
    linked: dict[tuple[int, int], str] = {}

    def copy(src: str, dst: str) -> None:  # a hard link stays a link (the mirror): each inode is written once
        st = os.stat(src)
        first = linked.setdefault((st.st_dev, st.st_ino), dst)
        if first != dst:
            os.link(first, dst)
        else:
            shutil.copyfile(src, dst)

    os.sync()
    t0 = time.perf_counter()
    shutil.copytree(tree, target, symlinks=True, copy_function=copy)
    seconds = time.perf_counter() - t0
    shutil.rmtree(target)
    return seconds


def _fastest(runs: list[dict]) -> dict:
    return min(runs, key=lambda m: m["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--symbols", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads, the same for the floor and the export")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, alternating; the fastest is reported")
    parser.add_argument("--sets", default=",".join(FILE_SETS), help="file sets to export: reference, json, plan")
    args = parser.parse_args()
    sets = [name.strip() for name in args.sets.split(",") if name.strip()]
    unknown = [name for name in sets if name not in FILE_SETS]
    if unknown:
        parser.error(f"--sets: unknown file set {unknown[0]!r} (expected some of {', '.join(FILE_SETS)})")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        db = build_plan_db(work / "base.duckdb", args.targets, args.symbols)
        dbs = {name: _with_files(db, work / f"set_{name}.duckdb", *FILE_SETS[name]) for name in sets}
        print(f"built database: {args.targets} targets x {args.symbols} symbols in {time.perf_counter() - t0:.1f}s")
        runs: dict[str, list[dict]] = {name: [] for name in ("floor", "floor_decisions", *sets)}
        classes: list[tuple[str, int, float]] = []
        copies: list[float] = []
        for i in range(args.repeat):  # alternate, so all see the same machine load
            for name in runs:
                mode = name if name.startswith("floor") else "export"
                out = work / f"{name}{i}"
                runs[name].append({**_measure(mode, dbs.get(name, db), out, args.threads), "mb": _written_mb(out)})
                if name == "reference":
                    classes = _file_classes(out)
                    copies.append(_copy_floor(out, work / f"copy{i}"))
                shutil.rmtree(out)
            print(f"run {i + 1}: " + ", ".join(f"{name} {r[-1]['seconds']:.2f}s" for name, r in runs.items()))
        print(f"DuckDB threads: {args.threads}; the fastest of {args.repeat} runs of each")
        floor, floor_decisions = _fastest(runs["floor"]), _fastest(runs["floor_decisions"])
        both = floor["seconds"] + floor_decisions["seconds"]
        for label, m in (("COPY training_jobs TO json", floor), ("COPY routing_decisions TO json", floor_decisions)):
            print(
                f"floor  {label:32s} {m['seconds']:6.2f}s ({m['cpu_seconds']:.1f}s CPU), peak RSS {m['peak_rss_mb']:5.0f} MB, "
                f"{m['mb']:5.0f} MB written ({m['mb'] / m['seconds']:.0f} MB/s)"
            )
        if copies:
            print(
                f"floor  copying the reference set's files {min(copies):6.2f}s (the exported tree copied by the kernel: "
                "the same bytes and files, no logic)"
            )
        for name in sets:
            m = _fastest(runs[name])
            dump_plan_as, files = FILE_SETS[name]
            ratio = f"{m['seconds'] / floor['seconds']:.2f}x the jobs floor"
            if "JSON" in dump_plan_as:
                ratio += f", {m['seconds'] / both:.2f}x jobs + decisions floors"
            if name == "reference" and copies:
                ratio += f", {m['seconds'] / min(copies):.2f}x copying its files"
            # each run beside the floor run just before it (same machine load): the median of those ratios
            paired = sorted(e["seconds"] / f["seconds"] for e, f in zip(runs[name], runs["floor"], strict=True))
            ratio += (
                f"; run by run {', '.join(f'{r:.2f}' for r in paired)}x the jobs floor (median {median(paired):.2f}x)"
            )
            print(
                f"export {name:9s} (dump_plan_as [{', '.join(dump_plan_as)}], training_plan_files "
                f"[{', '.join(files)}]):\n  {m['seconds']:.2f}s ({m['cpu_seconds']:.1f}s CPU), peak RSS {m['peak_rss_mb']:.0f} MB, {m['mb']:.0f} MB "
                f"written ({m['mb'] / floor['mb']:.2f}x the jobs floor's bytes); {ratio}"
            )
            for step, thread, seconds in m["steps"]:
                print(f"    {step:26s} {thread:14s} {seconds:6.2f}s")
        if classes:
            print("reference file set, file classes (files, MB):")
            for label, n, mb in classes:
                print(f"  {label:32s} {n:6d} {mb:9.1f}")


if __name__ == "__main__":
    main()
