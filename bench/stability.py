"""Benchmark of the stability models: 200 features x 5 snapshots x 10,000 scopes (10 targets x 1,000 symbols,
plus the 10 cross-sectional scopes), generated with the sample generator, then `dbt run` of the stability models
and what they read. Prints the build time of each staging and stability model, the stability total, the CPU time
of each dbt run, and the peak memory of dbt.

    .venv/bin/python -m bench.stability [--targets 10] [--symbols 1000] [--snapshots 5] [--features 200]

The generated run directory goes to bench/out/ (git-ignored) and is reused when its size options match.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml
from trainplan.config.project import default_policy, project_dir
from trainplan.samples.sample import SampleOptions, generate_sample
from trainplan.warehouse.dbt_runner import dbt_executable, dbt_paths

STABILITY_MODELS = [
    "int_stability__snapshots",
    "int_stability__scopes",
    "int_stability__compared_snapshots",
    "int_stability__snapshot_features",
    "int_stability__pairs",
    "int_stability__by_scope",
]


def ensure_run(out: Path, opts: SampleOptions, policy: Path) -> Path:
    """Generate the run directory unless one with the same options is already there."""
    stamp = out / "options.json"
    wanted = {
        "targets": opts.targets,
        "symbols": opts.symbols,
        "snapshots": opts.snapshots,
        "features": opts.snapshot_features,
    }
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return opts.out
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    generate_sample(opts, yaml.safe_load(policy.read_text(encoding="utf-8")))
    stamp.write_text(json.dumps(wanted))
    print(f"generated {opts.out} in {time.perf_counter() - started:.1f} s")
    return opts.out


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes so far (a loaded machine inflates wall time only)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_dbt(
    project: Path, run_dir: Path, work: Path, policy: Path, select: list[str]
) -> tuple[float, dict[str, float]]:
    """dbt run of the selected models into work/bench.duckdb; (wall seconds, seconds per model)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(Path.home()),
        "TRAINPLAN_RUN_DIR": str(run_dir),
        "TRAINPLAN_DB": str(work / "bench.duckdb"),
        "TRAINPLAN_POLICY": str(policy),
        "TRAINPLAN_THREADS": os.environ.get("TRAINPLAN_THREADS", "2"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DO_NOT_TRACK": "1",
    }
    cmd = [dbt_executable(), "run", *dbt_paths(project, work), "--select", *select]
    started = time.perf_counter()
    cpu_before = _children_cpu()
    proc = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    print(f"  dbt run of {len(select)} selector(s): {wall:.2f} s wall, {_children_cpu() - cpu_before:.2f} s CPU")
    if proc.returncode != 0:
        sys.exit(f"dbt run failed:\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}")
    results = json.loads((work / "target" / "run_results.json").read_text())
    return wall, {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results["results"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--symbols", type=int, default=1000)
    parser.add_argument("--snapshots", type=int, default=5)
    parser.add_argument("--features", type=int, default=200)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the six models alone; the fastest and the median are reported"
    )
    args = parser.parse_args()

    project = project_dir()
    policy = default_policy(project)
    out = project / "bench" / "out" / "stability"
    run_dir = out / "run"
    opts = SampleOptions(
        out=run_dir,
        targets=args.targets,
        symbols=args.symbols,
        snapshots=args.snapshots,
        snapshot_features=args.features,
    )
    ensure_run(out, opts, policy)
    n_files = sum(1 for _ in run_dir.glob("targets/*/reproducibility/feature_importance_snapshots/**/*.json"))
    print(
        f"input: {args.targets} targets x ({args.symbols} symbols + CS) scopes, {args.snapshots} snapshots of "
        f"{args.features} features each ({n_files} snapshot files)"
    )

    print(f"load average before the runs: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    (out / "bench.duckdb").unlink(missing_ok=True)
    # 1. Everything the stability models need, from the raw files: the staging models read and parse every
    #    snapshot and cohort file into tables (ingest, shared with the rest of the build), then the six models.
    wall, timings = run_dbt(project, run_dir, out, policy, ["+int_stability__by_scope"])
    print(f"load average before the second run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    # 2. The six stability models again, alone, from the staged tables (the fastest of --repeat runs, and the
    #    median): what the stability computation itself costs. A shared machine's load only ever adds time.
    reruns = [run_dbt(project, run_dir, out, policy, STABILITY_MODELS) for _ in range(max(args.repeat, 1))]
    wall_metrics, metrics = min(reruns, key=lambda run: sum(run[1].values()))
    totals = sorted(sum(run[1].values()) for run in reruns)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    staging = {name: seconds for name, seconds in timings.items() if name not in STABILITY_MODELS}
    print("staging and policy models (run 1, reading the raw files):")
    for name, seconds in sorted(staging.items(), key=lambda item: -item[1]):
        print(f"  {name:36s} {seconds:7.2f} s")
    print(
        "stability models (dbt run_results; run 1 after staging, run 2 alone from the staged tables, its fastest run):"
    )
    for name in STABILITY_MODELS:
        print(f"  {name:36s} {timings.get(name, float('nan')):7.2f} s  {metrics.get(name, float('nan')):7.2f} s")
    print(f"reading + parsing the raw files (staging models, run 1): {sum(staging.values()):.2f} s")
    print(
        f"stability models, the six together (run 2): fastest {totals[0]:.2f} s, median {statistics.median(totals):.2f} s"
        f" of {len(totals)} runs ({', '.join(f'{total:.2f}' for total in totals)})"
    )
    print(f"dbt wall time: run 1 {wall:.2f} s, run 2 {wall_metrics:.2f} s (with dbt start-up)")
    print(f"peak memory (max RSS of a dbt process): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
