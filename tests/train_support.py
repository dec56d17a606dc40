"""Helpers of the training tests: small fake plans (valid, no dbt build), running `train` in-process or as a
process, and reading the ledger back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trainplan.cli.app import app
from trainplan.export.store import staged_plan
from trainplan.plan.files import GLOBALS, MASTER, ROUTING_PLAN, TRAINING_PLAN
from trainplan.samples.plan import SyntheticPlan, synthetic_plan_document
from trainplan.train.ledger import read_records, run_files
from typer.testing import CliRunner

from tests.conftest import REPO

TRAINER = "tests.trainers.behave:train"
TRAINPLAN = Path(sys.executable).with_name("trainplan")
runner = CliRunner()


def plan_document(
    targets: Sequence[str] = ("ta", "tb"), symbols: Sequence[str] = ("AAA", "BBB", "CCC"), **more: Any
) -> dict[str, Any]:
    return synthetic_plan_document(SyntheticPlan(targets=targets, symbols=symbols, **more))


def write_plan(root: Path, doc: dict[str, Any]) -> Path:
    """A plan written the plain way: `<root>/globals/training_plan/master_training_plan.json`; returns root."""
    folder = root / GLOBALS / TRAINING_PLAN
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MASTER).write_text(json.dumps(doc), encoding="utf-8")
    return root


def publish_plan(root: Path, doc: dict[str, Any]) -> Path:
    """A plan published as the export does (`globals/.plan-<token>/` behind links); returns the .plan folder."""
    with staged_plan(root / GLOBALS, (ROUTING_PLAN, TRAINING_PLAN)) as staging:
        (staging / TRAINING_PLAN / MASTER).write_text(json.dumps(doc), encoding="utf-8")
    return (root / GLOBALS / TRAINING_PLAN).resolve().parent


def runnable_ids(doc: dict[str, Any]) -> set[str]:
    return {j["job_id"] for j in doc["jobs"] if j["training_type"] != "blocked"}


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250", **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def train(root: Path, ledger: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`trainplan train` in this process on a fake plan (no database: --allow-stale)."""
    return cli("train", "--plan", str(root), "--ledger", str(ledger), "--allow-stale", *extra, env=env)


def start_train(root: Path, ledger: Path, *extra: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """`trainplan train` as a process of its own (to kill it or send it Ctrl-C)."""
    cmd = [str(TRAINPLAN), "train", "--plan", str(root), "--ledger", str(ledger), "--allow-stale", *extra]
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "250", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def started(log: Path) -> list[str]:
    """Job ids in the order the test trainer started them."""
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def records(ledger: Path, kind: str | None = "attempt") -> list[dict[str, Any]]:
    out = [r for path in run_files(ledger) for r in read_records(path)]
    return [r for r in out if kind is None or r.get("record") == kind]


def ends(ledger: Path) -> list[dict[str, Any]]:
    return [r for r in records(ledger) if r["status"] != "running"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of this process is dead for our purposes
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def kill(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> str:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    return out


def read_until(proc: subprocess.Popen[str], text: str) -> str:
    """The process's output up to the first line holding `text` (the line included)."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"{text!r} never printed:\n{''.join(seen)}")


def interrupt_twice(proc: subprocess.Popen[str]) -> str:
    """Ctrl-C, wait until the run says it is interrupted, Ctrl-C again (two signals sent at once would arrive as
    one); returns everything the process printed until it exited."""
    proc.send_signal(signal.SIGINT)
    seen = read_until(proc, "interrupted:")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    return seen + out


def gated(tmp_path: Path, stop_after: int | None = None) -> tuple[Path, Path, Path, dict[str, str]]:
    """(ledger, start log, gate, env) of a run whose test-trainer jobs wait for the gate file (the first
    `stop_after` starts run freely): tests/trainers/behave.py."""
    ledger, log, gate = tmp_path / "ledger", tmp_path / "starts.log", tmp_path / "gate"
    env = {"TRAINPLAN_TEST_LOG": str(log), "TRAINPLAN_TEST_GATE": str(gate)}
    if stop_after is not None:
        env["TRAINPLAN_TEST_STOP_AFTER"] = str(stop_after)
    return ledger, log, gate, env
