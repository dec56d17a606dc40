"""End-to-end refresh benchmark: `trainplan refresh` at several sizes, cold and warm, beside its floors.

    .venv/bin/python -m bench.refresh [--sizes S,C,M,L,Lt] [--runs 3] [--no-floors]      (or `make bench`)

Sizes (inputs generated deterministically under bench/out/refresh/, git-ignored, and reused while they match):
- S:  the bundled sample run directory (examples/sample_run, 6 targets x 12 symbols);
- C:  a ready candidates parquet of 50 targets x 1,000 symbols (50,050 pairs), the reference's format;
- M:  a run directory of 20 targets x 500 symbols (`trainplan sample`: 5 importance snapshots of 200 features per
      scope, quarantine files; about 100,000 files), generated with bench.stability's generator;
- L:  a candidates parquet of 200 targets x 5,000 symbols (1,000,200 pairs), the shipped policy's file set;
- Lt: the same parquet with the file set training reads (`dump_plan_as: [JSON]`, `training_plan_files: []`).

Each refresh runs in its own process (`trainplan refresh --out ... --db ...`, its own state folder). A cold run
starts with no state folder (dbt parses the whole project, no previous database or plan); a warm run repeats it
with the state kept (dbt's partial parse, a database and a plan to replace). Peak memory is the largest sum of
the resident set sizes of the refresh process and all its descendants (dbt), sampled from /proc every 20 ms.
Steps: the driver until dbt starts; dbt start-up and parse (until its first node starts); seeds, models and data
tests (wall time each kind of node was running, from dbt's run_results.json); dbt's end; the export and
publication (after dbt exits); and every model's own time (`model_seconds` in results.json, the median per model).
Floors (C, M, L): DuckDB in a process of its own reading the same raw files once and writing one JSON row per pair
with COPY, no logic. Beside S and C, dbt alone: `dbt build` of a one-model project (`select 1`), the least any
refresh that runs dbt can take. Figures are the median of --runs runs; the file system is synced before each run.
One table is printed and bench/results.json written (figures, sizes, versions, cores, memory).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from trainplan.config.project import default_policy, project_dir
from trainplan.samples.candidates_format import SCHEMA
from trainplan.samples.sample import SampleOptions
from trainplan.warehouse.dbt_runner import DBT_CHILD, dbt_executable

from bench.stability import ensure_run

POLL_SECONDS = 0.02
PAGE = os.sysconf("SC_PAGE_SIZE")
TRAINING_FILE_SET = {"dump_plan_as": ["JSON"], "training_plan_files": []}


@dataclass(frozen=True)
class Size:
    name: str
    what: str
    pairs: int  # (target, symbol) pairs plus one cross-sectional scope per target
    kind: str  # run_dir | candidates
    targets: int
    symbols: int
    training_set: bool = False  # the file set training reads instead of the shipped one


SIZES = {
    "S": Size("S", "bundled sample run dir, 6 x 12", 6 * 12 + 6, "run_dir", 6, 12),
    "C": Size("C", "candidates parquet, 50 x 1,000", 50 * 1000 + 50, "candidates", 50, 1000),
    "M": Size("M", "run dir 20 x 500 (trainplan sample)", 20 * 500 + 20, "run_dir", 20, 500),
    "L": Size("L", "candidates parquet, 200 x 5,000", 200 * 5000 + 200, "candidates", 200, 5000),
    "Lt": Size("Lt", "L, training's file set", 200 * 5000 + 200, "candidates", 200, 5000, training_set=True),
}


# ---------------------------------------------------------------------------------------------------------- inputs


def candidates_parquet(out: Path, targets: int, symbols: int) -> Path:
    """A deterministic routing_candidates.parquet in the reference's format (samples.candidates_format.SCHEMA):
    per target a CS row and one row per symbol, scores and sample sizes spread over every lane state."""
    path = out / f"candidates_{targets}x{symbols}" / "routing_candidates.parquet"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect()
    table = con.execute(f"""
with t as (
    select range as ti, 'gen_tgt_' || lpad(range::varchar, 4, '0') || '_' || (range % 9 + 2)::varchar
        || ['m', 'h', 'd'][range % 3 + 1] as target,
        case when range % 2 = 0 then 'REGRESSION' else 'BINARY_CLASSIFICATION' end as task_type
    from range({targets})
),
s as (select range as si, null::varchar as symbol from range(1) union all
      select range + 1, 'SYM' || lpad(range::varchar, 5, '0') from range({symbols})),
rows as (
    select t.target, s.symbol, t.task_type, t.ti, s.si,
        hash(t.ti, s.si) % 1000 / 1000.0 as u
    from t cross join s
)
select target, symbol, 'CROSS_SECTIONAL' as mode,
    case when task_type = 'REGRESSION' then round(-0.05 + u * 0.4, 6) else round(0.45 + u * 0.4, 6) end as score,
    null as score_ci_low, null as score_ci_high, 'UNKNOWN' as stability,
    (case when symbol is null then 2000 + (ti * 7919) % 200000 else 50 + (si * 104729 + ti) % 20000 end)::bigint
        as sample_size,
    'UNKNOWN' as leakage_status, null as feature_set_id, []::varchar[] as failed_model_families,
    null as stability_metrics, task_type,
    case when task_type = 'REGRESSION' then 'R²' else 'ROC-AUC' end as metric_name,
    '2026-01-05T11:00:00.000000' as timestamp, '1e594aa' as git_commit,
    case when symbol is null then null else 'OK' end as model_status
from rows
order by ti, si
""").to_arrow_table()
    columns = [
        pa.nulls(table.num_rows, field.type) if pa.types.is_null(field.type) else table[field.name] for field in SCHEMA
    ]
    columns[SCHEMA.get_field_index("failed_model_families")] = pa.array(
        [[]] * table.num_rows, SCHEMA.field("failed_model_families").type
    )
    pq.write_table(pa.Table.from_arrays(columns, schema=SCHEMA), path)
    print(f"generated {path} ({table.num_rows} rows) in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def run_dir_m(out: Path, policy: Path) -> Path:
    """The M run directory: `trainplan sample` 20 x 500, 5 snapshots of 200 features per scope."""
    folder = out / "run_20x500"
    opts = SampleOptions(out=folder / "run", targets=20, symbols=500, snapshots=5, snapshot_features=200)
    return ensure_run(folder, opts, policy)


def training_policy(out: Path, policy: Path) -> Path:
    """The shipped policy with the file set training reads."""
    doc = yaml.safe_load(policy.read_text(encoding="utf-8"))
    doc["routing"].update(TRAINING_FILE_SET)
    path = out / "policy_training_files.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------------ measuring


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree(root: int) -> list[int]:
    children = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _is_dbt(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            args = handle.read().split(b"\0")
    except OSError:
        return False
    return is_dbt_build(args)


def is_dbt_build(args: list[bytes]) -> bool:
    """A process's arguments are a `dbt build`: plain dbt's, or a refresh's dbt child (`python -P -m <module> build`)."""
    dbt = any(a.endswith(b"/dbt") for a in args[:2]) or DBT_CHILD.encode() in args
    return dbt and b"build" in args


class TreeMonitor:
    """Samples the process tree of `pid`: the peak sum of RSS, and when a dbt process was first and last seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.dbt_first: float | None = None
        self.dbt_last: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)
            self.peak = max(self.peak, sum(_rss(p) for p in pids))
            now = time.time()
            if any(_is_dbt(p) for p in pids[1:]):
                self.dbt_first = self.dbt_first or now
                self.dbt_last = now
            self._stop.wait(POLL_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def node_steps(run_results: Path) -> tuple[dict[str, float], list[tuple[str, float]], float, float]:
    """From dbt's run_results.json: wall seconds per kind of node, the nodes by time, first start, last end."""
    doc = json.loads(run_results.read_text())
    spans: dict[str, list[tuple[float, float]]] = {}
    nodes = []
    for result in doc["results"]:
        times = [(_iso(t["started_at"]), _iso(t["completed_at"])) for t in result["timing"] if t.get("started_at")]
        if not times:
            continue
        kind = result["unique_id"].split(".")[0]
        span = (min(a for a, _ in times), max(b for _, b in times))
        spans.setdefault(kind, []).append(span)
        nodes.append((f"{kind}.{result['unique_id'].split('.', 2)[-1]}", span[1] - span[0]))
    all_spans = [s for group in spans.values() for s in group]
    return (
        {kind: _union(group) for kind, group in spans.items()},
        sorted(nodes, key=lambda n: -n[1]),
        min(a for a, _ in all_spans),
        max(b for _, b in all_spans),
    )


def refresh_once(size: Size, inputs: Path, policy: Path, work: Path, *, cold: bool) -> dict:
    """One `trainplan refresh` in its own process: time, peak memory of its process tree, steps."""
    state, db, out = work / "state", work / "db" / "trainplan.duckdb", work / "plan"
    if cold:
        for folder in (state, db.parent, out):
            shutil.rmtree(folder, ignore_errors=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    source = ["--run-dir" if size.kind == "run_dir" else "--candidates", str(inputs)]
    cmd = [sys.executable, "-c", "from trainplan.cli import main; main()", "refresh", *source]
    cmd += ["--out", str(out), "--db", str(db), "--policy", str(policy)]
    env = {**os.environ, "TRAINPLAN_STATE_DIR": str(state), "COLUMNS": "200"}
    os.sync()
    started = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    monitor = TreeMonitor(proc.pid)
    output, _ = proc.communicate()
    ended = time.time()
    monitor.stop()
    if proc.returncode != 0:
        sys.exit(f"refresh of {size.name} failed (exit {proc.returncode}):\n{output[-4000:]}")
    kinds, nodes, first, last = node_steps(next(state.glob("dbt/*/target/run_results.json")))
    dbt_start = monitor.dbt_first or first
    dbt_end = monitor.dbt_last or last
    return {
        "seconds": ended - started,
        "peak_mb": monitor.peak / 1e6,
        "steps": {
            "driver until dbt starts": dbt_start - started,
            "dbt start-up and parse": first - dbt_start,
            "seeds": kinds.get("seed", 0.0),
            "models": kinds.get("model", 0.0),
            "data tests": kinds.get("test", 0.0),
            "dbt nodes (wall)": last - first,
            "dbt end": max(dbt_end - last, 0.0),
            "export and publish": ended - dbt_end,
        },
        "top_nodes": nodes[:8],
        "model_seconds": {name.split(".")[-1]: secs for name, secs in nodes if name.startswith("model.")},
    }


FLOOR = """
import json, resource, sys, time
import duckdb
kind, source, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
con = duckdb.connect()
con.execute(f"set threads = {threads}")
con.execute("set enable_progress_bar = false")
t0 = time.perf_counter()
if kind == "candidates":
    con.execute(f"copy (select target, symbol, score, sample_size from read_parquet('{source}')) to '{out}' (format json)")
else:
    globs = [f"{source}/targets/*/reproducibility/**/cohort=*/{name}" for name in ("metrics.json", "metadata.json")]
    globs.append(f"{source}/targets/*/reproducibility/feature_importance_snapshots/**/*.json")
    con.execute(f"create temp table raw as select filename, json from read_json_objects({globs!r}, filename = true)")
    con.execute(
        "copy (select filename, json ->> '$.target' as target, json ->> '$.auc' as score from raw "
        f"where filename like '%/metrics.json') to '{out}' (format json)"
    )
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 * 1.048576}))
"""


def floor_once(size: Size, inputs: Path, work: Path, threads: int) -> dict:
    out = work / "floor.json"
    os.sync()
    proc = subprocess.run(
        [sys.executable, "-c", FLOOR, size.kind, str(inputs), str(out), str(threads)],
        capture_output=True,
        text=True,
        check=True,
    )
    out.unlink(missing_ok=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------------------------------------- report


def _median_run(runs: list[dict]) -> dict:
    steps = {key: statistics.median(r["steps"][key] for r in runs) for key in runs[0]["steps"]}
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": statistics.median(r["peak_mb"] for r in runs),
        "steps": steps,
        "runs_seconds": [round(r["seconds"], 2) for r in runs],
        "runs_peak_mb": [round(r["peak_mb"]) for r in runs],
        "top_nodes": runs[0]["top_nodes"],
        "model_seconds": _median_model_seconds(runs),
    }


def _median_model_seconds(runs: list[dict]) -> dict[str, float]:
    """Each model's median time over the runs that built it, slowest first."""
    names = {name for r in runs for name in r["model_seconds"]}
    medians = {n: statistics.median(r["model_seconds"][n] for r in runs if n in r["model_seconds"]) for n in names}
    return {n: round(medians[n], 3) for n in sorted(medians, key=lambda n: (-medians[n], n))}


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "pyarrow"):
        versions[package] = metadata.version(package)
    return versions


def _mem_total_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def _git_commit(project: Path) -> str:
    proc = subprocess.run(["git", "-C", str(project), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


DBT_ALONE_PROJECT = {
    "dbt_project.yml": "name: one_model\nversion: '1.0'\nconfig-version: 2\nprofile: one_model\n",
    "profiles.yml": "one_model:\n  target: local\n  outputs:\n    local:\n      type: duckdb\n      path: one.duckdb\n",
    "models/one.sql": "select 1 as x\n",
}


def dbt_alone(work: Path, runs: int) -> dict:
    """`dbt build` of a one-model dbt-duckdb project (`select 1`), each in its own process: the least a refresh
    that runs dbt can take (start-up, parse, one node, artifacts). The first run parses the project from scratch
    (cold); the others reuse its partial parse (warm), like a warm refresh."""
    project = work / "dbt_alone"
    shutil.rmtree(project, ignore_errors=True)
    for name, text in DBT_ALONE_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    dbt = dbt_executable()
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false"}
    seconds = []
    for _ in range(max(runs, 1) + 1):
        started = time.perf_counter()
        proc = subprocess.run(
            [dbt, "build", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project)],
            cwd=project, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds.append(time.perf_counter() - started)
        if proc.returncode != 0:
            sys.exit(f"dbt build of the one-model project failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}")
    shutil.rmtree(project, ignore_errors=True)
    return {
        "cold_seconds": seconds[0],
        "warm_seconds": statistics.median(seconds[1:]),
        "runs_seconds": [round(x, 2) for x in seconds],
    }


def print_table(rows: dict[str, dict]) -> None:
    head = (
        f"{'size':4s} {'pairs':>9s} | {'cold s':>6s} {'warm s':>6s} {'peak MB':>7s} | {'start':>5s} {'parse':>5s} "
        f"{'models':>6s} {'tests':>5s} {'export':>6s} | {'floor s':>7s} {'x floor':>7s} | {'us/pair':>7s}"
    )
    print(head)
    print("-" * len(head))
    for name, row in rows.items():
        warm, cold = row["warm"], row["cold"]
        s = warm["steps"]
        floor = row.get("floor")
        floor_text = (
            f"{floor['seconds']:7.2f} {warm['seconds'] / floor['seconds']:6.1f}x" if floor else f"{'':7s} {'':7s}"
        )
        print(
            f"{name:4s} {row['pairs']:9,d} | {cold['seconds']:6.2f} {warm['seconds']:6.2f} "
            f"{max(warm['peak_mb'], cold['peak_mb']):7.0f} | {s['driver until dbt starts']:5.2f} "
            f"{s['dbt start-up and parse']:5.2f} {s['models']:6.2f} {s['data tests']:5.2f} "
            f"{s['export and publish']:6.2f} | {floor_text} | {warm['seconds'] / row['pairs'] * 1e6:7.1f}"
        )
    print(
        "warm steps (median): start = driver until dbt starts, parse = dbt start-up and parse, models and tests = "
        "wall time dbt ran them, export = after dbt exits; peak MB = all processes together (the larger of cold and warm)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(SIZES), help=f"comma-separated, some of {', '.join(SIZES)}")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (cold and warm); the median is reported")
    parser.add_argument("--no-floors", action="store_true", help="skip the DuckDB floors")
    parser.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "results.json")
    args = parser.parse_args()
    names = [name.strip() for name in args.sizes.split(",") if name.strip()]
    unknown = [name for name in names if name not in SIZES]
    if unknown:
        parser.error(f"--sizes: unknown size {unknown[0]!r} (expected some of {', '.join(SIZES)})")
    sizes = [SIZES[name] for name in names]
    project = project_dir()
    shipped = default_policy(project)
    out = Path(__file__).resolve().parent / "out" / "refresh"
    out.mkdir(parents=True, exist_ok=True)
    threads = int(os.environ.get("TRAINPLAN_THREADS", "2"))
    load_before = os.getloadavg()
    rows: dict[str, dict] = {}
    for size in sizes:
        if size.name == "S":
            inputs = project / "examples" / "sample_run"
        elif size.kind == "run_dir":
            inputs = run_dir_m(out, shipped)
        else:
            inputs = candidates_parquet(out, size.targets, size.symbols)
        policy = training_policy(out, shipped) if size.training_set else shipped
        work = out / "work" / size.name
        cold, warm = [], []
        for i in range(max(args.runs, 1)):
            cold.append(refresh_once(size, inputs, policy, work, cold=True))
            warm.append(refresh_once(size, inputs, policy, work, cold=False))
            print(
                f"{size.name} run {i + 1}: cold {cold[-1]['seconds']:.2f} s {cold[-1]['peak_mb']:.0f} MB, "
                f"warm {warm[-1]['seconds']:.2f} s {warm[-1]['peak_mb']:.0f} MB",
                flush=True,
            )
        row = {"what": size.what, "pairs": size.pairs, "cold": _median_run(cold), "warm": _median_run(warm)}
        if size.name != "S" and not args.no_floors and not size.training_set:
            floors = [floor_once(size, inputs, work, threads) for _ in range(max(args.runs, 1))]
            row["floor"] = {
                "seconds": statistics.median(f["seconds"] for f in floors),
                "peak_mb": statistics.median(f["peak_mb"] for f in floors),
                "runs_seconds": [round(f["seconds"], 2) for f in floors],
            }
        elif size.training_set and "L" in rows and "floor" in rows["L"]:
            row["floor"] = rows["L"]["floor"]
        rows[size.name] = row
        shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(rows)
    for name, row in rows.items():
        print(
            f"{name} slowest nodes (first warm run): "
            + ", ".join(f"{n} {t:.2f}s" for n, t in row["warm"]["top_nodes"][:5])
        )
    alone = None
    if not args.no_floors and {"S", "C"} & set(names):
        alone = dbt_alone(out / "work", args.runs)
        print(
            f"dbt alone (S and C's floor under dbt): a one-model dbt-duckdb project builds in "
            f"{alone['warm_seconds']:.2f} s warm, {alone['cold_seconds']:.2f} s cold"
        )
    print(f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores, shared)")
    results = {
        "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "git_commit": _git_commit(project),
        "runs": args.runs,
        "cores": os.cpu_count(),
        "memory_gb": round(_mem_total_gb(), 1),
        "dbt_threads": threads,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "versions": _versions(),
        "sizes": rows,
        "dbt_one_model_project": alone,
    }
    args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
