"""Training benchmark: the scheduler's and the ledger's own cost per job, and `--resume` on a finished ledger.

    .venv/bin/python -m bench.train [--jobs 10000] [--workers 2] [--repeat 1] [--workdir DIR]
    .venv/bin/python -m bench.train --executor ray [--jobs 10000] [--workers 2]

A synthetic plan of JOBS symbol jobs (no dbt build) is trained three ways, each `trainplan train` in a process of
its own, as a user runs it:

- `--trainer bench.train:noop` on WORKERS workers: a trainer that does nothing, so everything measured is
  overhead: scheduling, the two ledger records of each attempt, the pipe round trip to the worker, the attempt's
  artifacts folder and output log;
- `--command true` on WORKERS workers: the same plus starting a program per job;
- `--resume` of the finished `--trainer` run: reads the ledger, finds every job succeeded, runs nothing.

Those runs use `--allow-stale` (the synthetic plan has no database). What the stale check adds to every `train`
on a real plan is measured apart: a database of the same size (`bench.plan_db`, 100 targets x 99 symbols + 100 CS
jobs), its plan exported, then `check_freshness` (one more export into a temporary folder) timed in process.

With `--executor ray` it trains the same plan with the no-op trainer three ways instead: the local executor (for
comparison, on the same machine at the same time), `--executor ray` on a local Ray instance of WORKERS CPUs that
`train` starts itself, and `--executor ray --address` on a two-node Ray cluster started on this machine
(tests/ray_cluster.py: `ray start --head` and a second `ray start --address` node, one CPU each). For each it
prints the whole command per job, the time to the first job (from launching `train` to the first attempt's
start: interpreter, imports, the plan, and for Ray connecting or starting the instance and the artifacts-root
probe) and the overhead per job once running (first attempt's start to the session end, per job).

For each it prints the process's wall time, the run's own span (from its session record to its session-end
record, i.e. without interpreter start-up, imports and loading the plan), both per job, and the CPU time of the
train process and its workers. The no-op trainer's own time is nil, so all of it is overhead. The plan is
validated once beforehand (about 0.3 ms a job; cached by content, as for any plan trained twice), and that first
validation is printed too. The machine's load average is printed with the figures,
because other processes on a shared machine show up in every number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TRAINPLAN = Path(sys.executable).with_name("trainplan")


def noop(job: Any, context: Any) -> None:
    """The benchmark's trainer: nothing to do."""
    return None


def _plan(root: Path, jobs: int) -> Path:
    from trainplan.samples.plan import SyntheticPlan, synthetic_plan_document

    targets = max(1, jobs // 100)
    symbols = max(1, jobs // targets)
    doc = synthetic_plan_document(
        SyntheticPlan(
            [f"target_{t:04d}" for t in range(targets)], [f"SYM{s:05d}" for s in range(symbols)], cs_jobs=False
        )
    )
    folder = root / "globals" / "training_plan"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "master_training_plan.json").write_text(json.dumps(doc), encoding="utf-8")
    return root


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _train(plan: Path, ledger: Path, env: dict[str, str], *extra: str) -> tuple[float, float, str]:
    cmd = [
        str(TRAINPLAN),
        "train",
        "--plan",
        str(plan),
        "--ledger",
        str(ledger),
        "--allow-stale",
        "--no-progress",
        *extra,
    ]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall, cpu, proc.stdout


def _span(ledger: Path, run_id: str | None = None) -> tuple[float, int]:
    """Seconds from the last session record to its session end, and the attempts that session ended."""
    from trainplan.train.ledger import read_records, run_files

    path = run_files(ledger)[-1] if run_id is None else ledger / "runs" / f"{run_id}.jsonl"
    session = end = None
    attempts = 0
    for rec in read_records(path):
        if rec["record"] == "session":
            session, attempts = rec, 0
        elif rec["record"] == "session_end":
            end = rec
        elif rec["record"] == "attempt" and rec["status"] != "running":
            attempts += 1
    assert session is not None and end is not None

    def parse(text: str) -> float:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()

    return parse(end["ended_at"]) - parse(session["started_at"]), attempts


def _row(name: str, jobs: int, wall: float, span: float, cpu: float) -> str:
    return (
        f"{name:<28} {wall:8.2f} s {wall / jobs * 1000:8.3f} ms/job   run span {span:7.2f} s "
        f"{span / jobs * 1000:7.3f} ms/job   CPU {cpu:6.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--executor", choices=("local", "ray"), default="local")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="trainplan-bench-train-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TRAINPLAN_STATE_DIR": str(work / "state"), "COLUMNS": "120"}
    try:
        plan = _plan(work / "plan", args.jobs)
        print(f"plan: {args.jobs} symbol jobs; workers: {args.workers}; load average before: {os.getloadavg()}")
        from trainplan.train.pin import VALIDATED_DIR, pin_plan

        t0 = time.perf_counter()
        pin_plan(plan, work / "state" / VALIDATED_DIR)  # the cache `train` uses under TRAINPLAN_STATE_DIR
        print(f"first load of the plan (JSON Schema + semantic checks, then cached): {time.perf_counter() - t0:.2f} s")
        if args.executor == "ray":
            for i in range(args.repeat):
                _ray_runs(plan, work / f"ray-{i}", env, args.jobs, args.workers)
            print(f"load average after: {os.getloadavg()}")
            return
        for i in range(args.repeat):
            ledger = work / f"ledger-trainer-{i}"
            wall, cpu, _ = _train(plan, ledger, env, "--trainer", "bench.train:noop", "--workers", str(args.workers))
            span, n = _span(ledger)
            assert n == args.jobs, n
            print(_row("--trainer (no-op)", args.jobs, wall, span, cpu))

            ledger_c = work / f"ledger-command-{i}"
            wall, cpu, _ = _train(plan, ledger_c, env, "--workers", str(args.workers), "--command", "--", "true")
            span, n = _span(ledger_c)
            assert n == args.jobs, n
            print(_row("--command true", args.jobs, wall, span, cpu))

            wall, cpu, out = _train(plan, ledger, env, "--trainer", "bench.train:noop", "--resume")
            assert "no job to run" in out, out
            span, n = _span(ledger)
            assert n == 0
            print(
                f"{'--resume (all succeeded)':<28} {wall:8.2f} s  (process)   run span {span:7.3f} s   CPU {cpu:6.2f} s"
            )
            t0 = time.perf_counter()
            _resume_in_process(plan, ledger, work)
            print(f"{'--resume, in process':<28} {time.perf_counter() - t0:8.2f} s  (run_training: plan, ledger, lock)")
        print(
            f"{'stale check (plan_id)':<28} {_stale_check(work):8.2f} s  (in process, a 10,000-job plan and database)"
        )
        print(f"load average after: {os.getloadavg()}")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def _first_and_end(ledger: Path) -> tuple[float, float]:
    """Epoch seconds of the earliest attempt start (as its end record says) and of the session end."""
    from trainplan.train.ledger import read_records, run_files

    recs = list(read_records(run_files(ledger)[-1]))
    starts = [r["started_at"] for r in recs if r["record"] == "attempt" and r["status"] != "running"]
    end = next(r["ended_at"] for r in recs if r["record"] == "session_end")

    def parse(text: str) -> float:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()

    return parse(min(starts)), parse(end)


def _ray_row(name: str, plan: Path, ledger: Path, env: dict[str, str], jobs: int, *extra: str) -> None:
    launched = time.time()
    wall, cpu, _ = _train(plan, ledger, env, "--trainer", "bench.train:noop", *extra)
    _span_s, n = _span(ledger)
    assert n == jobs, n
    first_start, end = _first_and_end(ledger)
    first, running = first_start - launched, end - first_start
    print(
        f"{name:<34} {wall:7.2f} s {wall / jobs * 1000:7.3f} ms/job   first job after {first:6.2f} s   "
        f"then {running / jobs * 1000:6.3f} ms/job   CPU of train {cpu:6.2f} s"
    )


def _ray_runs(plan: Path, work: Path, env: dict[str, str], jobs: int, workers: int) -> None:
    """The no-op plan on the local executor, a local Ray instance and a two-node Ray cluster on this machine."""
    from tests.ray_cluster import ENV, RayCluster

    env = {**env, "RAY_AUTH_MODE": ENV["RAY_AUTH_MODE"], "RAY_USAGE_STATS_ENABLED": "0"}
    work.mkdir(parents=True, exist_ok=True)
    _ray_row("local executor", plan, work / "local", env, jobs, "--workers", str(workers))
    _ray_row(
        f"ray, local instance ({workers} CPUs)",
        plan,
        work / "ray-local",
        env,
        jobs,
        "--executor",
        "ray",
        "--workers",
        str(workers),
    )
    cluster = RayCluster(Path(tempfile.mkdtemp(prefix="tpray-", dir="/tmp")), owned_temp=True)
    try:
        cluster.start()
        _ray_row(
            "ray, 2-node cluster (1 CPU each)",
            plan,
            work / "ray-cluster",
            env,
            jobs,
            "--executor",
            "ray",
            "--address",
            cluster.address,
        )
    finally:
        cluster.stop()


def _stale_check(work: Path) -> float:
    """Seconds `check_freshness` takes on a 10,000-job plan exported from its database."""
    from trainplan.config.project import project_dir
    from trainplan.export.export import export_plan
    from trainplan.train.pin import pin_plan
    from trainplan.train.stale import check_freshness
    from trainplan.warehouse.database import read_only

    from bench.plan_db import build_plan_db

    (work / "stale").mkdir(parents=True, exist_ok=True)
    db = build_plan_db(work / "stale" / "plan.duckdb", 100, 99)
    with read_only(db) as con:
        export_plan(con, plan_root=work / "stale", project=project_dir())
    pinned = pin_plan(work / "stale")
    t0 = time.perf_counter()
    fresh = check_freshness(pinned.plan, pinned.plan_root, db)
    elapsed = time.perf_counter() - t0
    assert fresh.fresh and len(pinned.plan.jobs) == 10_000, (fresh, len(pinned.plan.jobs))
    return elapsed


def _resume_in_process(plan: Path, ledger: Path, work: Path) -> None:
    """`run_training(--resume)` in this process: no interpreter start-up or imports, the cost a caller pays."""
    os.environ["TRAINPLAN_STATE_DIR"] = str(work / "state")
    from rich.console import Console
    from trainplan.train.run import TrainOptions, run_training

    options = TrainOptions(
        plan=plan, trainer="bench.train:noop", resume=True, ledger=ledger, allow_stale=True, progress=False, cwd=REPO
    )
    with open(os.devnull, "w") as sink:
        result = run_training(options, Console(file=sink))
    assert result.exit_code == 0 and not result.outcomes


if __name__ == "__main__":
    main()
