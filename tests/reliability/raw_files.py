"""Helpers of the hostile-raw-file tests: a writable copy of the bundled sample, a refresh through the CLI (the
user's path: exit code and stderr are part of the contract), and the facts a test reads back from its database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tests.conftest import SAMPLE_RUN

TRAINPLAN = str(Path(sys.executable).parent / "trainplan")
RANKINGS = "globals/target_predictability_rankings.csv"
# The kinds of file that can carry a leakage block (docs/decision-semantics.md, "Unreadable evidence")
EVIDENCE_NAMES = ("metrics.json", "metadata.json", "confirmed_quarantine.json")


def copy_sample(dest: Path) -> Path:
    """A writable copy of examples/sample_run (its routing/ folder left out: it is an output, not an input)."""
    shutil.copytree(SAMPLE_RUN, dest, ignore=shutil.ignore_patterns("routing"))
    return dest


@dataclass(frozen=True)
class Refreshed:
    """One `trainplan refresh` of a run directory: the process result and where the database landed."""

    returncode: int
    stdout: str
    stderr: str
    db_path: Path

    def rows(self, sql: str, *params: object) -> list[tuple]:
        with duckdb.connect(str(self.db_path), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()

    def rejected_files(self) -> set[str]:
        return {r[0] for r in self.rows("select source_file from rejected_inputs")}

    def job_ids(self) -> set[str]:
        return {r[0] for r in self.rows("select job_id from training_jobs")}

    def leakage(self, target: str, symbol: str | None) -> tuple[str, str]:
        return self.rows(
            "select leakage_status, leakage_reason from routing_candidates"
            " where target = ? and symbol is not distinct from ?",
            target,
            symbol,
        )[0]


def refresh_cli(run_dir: Path, work: Path, *extra: str) -> Refreshed:
    work.mkdir(parents=True, exist_ok=True)
    db = work / "db.duckdb"
    proc = subprocess.run(
        [TRAINPLAN, "refresh", "--run-dir", str(run_dir), "--out", str(work / "out"), "--db", str(db), *extra],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "400"},
    )
    return Refreshed(proc.returncode, proc.stdout, proc.stderr, db)


def job_id(target: str, symbol: str | None) -> str:
    return f"cs_{target}" if symbol is None else f"sym_{target}_{symbol}"


def scope_of(relative: str) -> tuple[str, str | None] | None:
    """(target, symbol) of a file under targets/<t>/reproducibility/<VIEW>/[symbol=<S>/]; None outside a scope."""
    parts = Path(relative).parts
    if len(parts) < 4 or parts[0] != "targets" or parts[2] != "reproducibility":
        return None
    if parts[3] == "CROSS_SECTIONAL":
        return parts[1], None
    if parts[3] == "SYMBOL_SPECIFIC" and len(parts) > 4 and parts[4].startswith("symbol="):
        return parts[1], parts[4].removeprefix("symbol=")
    return None


def strict_json_error(data: bytes) -> str | None:
    """Why `data` is not one strict JSON document (UTF-8, no duplicated key, no NaN/Infinity), or None."""

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_constant(name: str) -> object:
        raise ValueError(f"literal {name}")

    try:
        json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        return str(exc)
    return None
