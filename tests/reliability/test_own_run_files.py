"""The README's own-run example on the bundled sample (`trainplan refresh --run-dir examples/sample_run`, then
`train` and `report`) writes its plan, ledger and report beside the run's own files: all of it is git-ignored, so
the example leaves no untracked files in the repository."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from trainplan.export.export import PLAN_FOLDERS
from trainplan.export.refresh import LOCK_SUFFIX
from trainplan.export.store import CURRENT, PLAN_PREFIX
from trainplan.plan.files import GLOBALS
from trainplan.report.build import REPORT_FILE
from trainplan.train.ledger import LEDGER_DIR

from tests.conftest import REPO, SAMPLE_RUN


def test_what_a_refresh_train_and_report_of_the_sample_write_is_ignored() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.fail("this test runs in a git checkout of trainplan")
    globals_dir = SAMPLE_RUN.relative_to(REPO) / GLOBALS
    written = [
        *PLAN_FOLDERS,
        CURRENT,
        f"{PLAN_PREFIX}0123abcd",
        LOCK_SUFFIX,
        LEDGER_DIR,
        f"{LEDGER_DIR}/runs/20261204T101500Z-3f9a1c.jsonl",
        REPORT_FILE,
    ]
    paths = [str(globals_dir / name) for name in written]
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *paths],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    not_ignored = [line.split("\t")[1] for line in proc.stdout.splitlines() if line.startswith("::")]
    assert not_ignored == [], proc.stdout
    # the run's own files stay tracked
    tracked = subprocess.run(
        ["git", "ls-files", str(globals_dir)], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert f"{globals_dir}/run_context.json" in tracked
