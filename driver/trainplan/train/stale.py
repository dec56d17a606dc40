"""Is the plan still what the database and the files it was built from say now? `train` refuses a stale plan.

Two checks, both named in the refusal:

- `plan_id`: the plan is exported again from the plan's database (opened read-only) into a temporary folder with
  the export itself (`trainplan.export.export.export_plan`), so the comparison can never drift from how plan_id
  is computed; it costs one export (well under a second for thousands of jobs; see the export benchmark for
  millions). A different plan_id means the database changed after this plan was written.
- `inputs_fingerprint`: the hash over `plan_input_files` (path, SHA-256 of each raw file the build read, the
  routing policy file among them, so an edited policy shows here, by name). To
  recompute it from the files as they are now without repeating the model's glob list, the SQL dbt compiled for
  `plan_input_files` and the models above it (dbt's `manifest.json` in the database's dbt work folder, holding
  the run directory the build read) runs again on an empty in-memory DuckDB, with the SQL functions they list and
  hash files with (`trainplan.warehouse.functions`); the hash is the export's own
  function (`trainplan.export.header.inputs_fingerprint`). Added, removed and changed files are all seen, and
  the refusal lists them.

The plan's database is `--db`, else env TRAINPLAN_DB, else the database of the last refresh or demo when that
refresh wrote this plan root. Without one, nothing can be checked: `train` says so and refuses unless
`--allow-stale`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from trainplan.config.project import project_dir, state_dir
from trainplan.config.settings import last_refresh, make_settings
from trainplan.errors import TrainplanError
from trainplan.export.export import export_plan
from trainplan.export.header import config_hash, inputs_fingerprint
from trainplan.plan.model import Plan
from trainplan.warehouse.database import read_only
from trainplan.warehouse.functions import register_functions, without_duckdb_prefix

INPUT_FILES_MODEL = "plan_input_files"
MANIFEST = Path("target") / "manifest.json"
SHOWN = 5


class PlanStale(TrainplanError):
    """The plan no longer matches its database or the run directory's files (or cannot be checked)."""


@dataclass(frozen=True)
class Freshness:
    checked: bool  # False: the checks could not run (see problems)
    changed: tuple[str, ...]  # "plan_id" and/or "inputs_fingerprint"
    problems: tuple[str, ...]  # one line per change found, or why nothing could be checked
    db_path: Path | None

    @property
    def fresh(self) -> bool:
        return self.checked and not self.changed

    def describe(self) -> str:
        return "; ".join(self.problems)


def database_for(plan_root: Path, db_option: Path | None) -> Path | None:
    """The database this plan came from (see the module docstring), or None when none is known."""
    if db_option is not None:
        return db_option.absolute()
    if os.environ.get("TRAINPLAN_DB"):
        return Path(os.environ["TRAINPLAN_DB"]).absolute()
    last = last_refresh(state_dir(project_dir()))
    if last is not None and last[1].resolve() == plan_root.resolve():
        return last[0]
    return None


def _plan_id_now(con: duckdb.DuckDBPyConnection) -> str:
    with tempfile.TemporaryDirectory(prefix="trainplan-stale-check-") as tmp:
        return export_plan(con, plan_root=Path(tmp), project=project_dir()).plan_id


def _upstream(nodes: dict[str, Any], start: str) -> list[dict[str, Any]]:
    """`start` and every model above it, parents first."""
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in seen or unique_id not in nodes:
            return
        seen.add(unique_id)
        for parent in nodes[unique_id].get("depends_on", {}).get("nodes", []):
            visit(parent)
        ordered.append(nodes[unique_id])

    visit(start)
    return ordered


def _files_now(db_path: Path) -> tuple[duckdb.DuckDBPyConnection | None, str]:
    """An in-memory DuckDB where `plan_input_files` lists the files as they are now (else None and why not): the
    models above it are views, it is a table, so the files are listed and hashed once for the fingerprint and the
    list of changes. A file that cannot be read now is named (the first line of DuckDB's message, without DuckDB's words
    before the function's own)."""
    manifest_path = make_settings(db_path=db_path).dbt_work_dir / MANIFEST
    try:
        nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"]
    except (OSError, ValueError, KeyError) as err:
        return None, f"no dbt manifest for this database ({manifest_path}: {err})"
    start = next(
        (k for k, n in nodes.items() if n.get("resource_type") == "model" and n.get("name") == INPUT_FILES_MODEL), None
    )
    if start is None:
        return None, f"{manifest_path} has no model {INPUT_FILES_MODEL}"
    con = duckdb.connect()
    register_functions(con)  # the SQL functions the models list and hash files with (dbt's plugin, in a build)
    try:
        final = nodes[start]
        for node in _upstream(nodes, start):
            database, schema = node["database"], node["schema"]
            if database not in {r[0] for r in con.execute("select database_name from duckdb_databases()").fetchall()}:
                con.execute(f"attach ':memory:' as \"{database}\"")
            con.execute(f'create schema if not exists "{database}"."{schema}"')
            if node is not final:
                con.execute(f"create or replace view {node['relation_name']} as {node['compiled_code']}")
        con.execute(f'use "{final["database"]}"."{final["schema"]}"')  # the compiled SQL names relations in it
        con.execute(f"create table {final['relation_name']} as {final['compiled_code']}")
    except (duckdb.Error, KeyError) as err:
        con.close()
        first_line = without_duckdb_prefix((str(err).strip().splitlines() or [""])[0])
        return None, f"cannot rerun the compiled {INPUT_FILES_MODEL} SQL of {manifest_path}: {first_line}"
    return con, ""


def _file_changes(db: duckdb.DuckDBPyConnection, now: duckdb.DuckDBPyConnection) -> str:
    before = dict(db.execute(f"select path, sha256 from {INPUT_FILES_MODEL}").fetchall())
    after = dict(now.execute(f"select path, sha256 from {INPUT_FILES_MODEL}").fetchall())
    parts = []
    for label, names in (
        ("changed", sorted(p for p in before.keys() & after.keys() if before[p] != after[p])),
        ("added", sorted(after.keys() - before.keys())),
        ("removed", sorted(before.keys() - after.keys())),
    ):
        if names:
            more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
            parts.append(f"{len(names)} {label} ({', '.join(names[:SHOWN])}{more})")
    return "; ".join(parts) or "the files the database lists are unchanged (the plan was built from other files)"


def check_freshness(plan: Plan, plan_root: Path, db_option: Path | None) -> Freshness:
    db_path = database_for(plan_root, db_option)
    if db_path is None:
        return Freshness(
            False,
            (),
            (
                f"no database is known for the plan under {plan_root} (it is not the last refresh's plan root); "
                "give --db FILE (the database the plan was exported from)",
            ),
            None,
        )
    if not db_path.is_file():
        return Freshness(False, (), (f"the plan's database {db_path} does not exist",), db_path)
    changed: list[str] = []
    problems: list[str] = []
    with read_only(db_path) as con:
        plan_id_now = _plan_id_now(con)
        if plan_id_now != plan.plan_id:
            changed.append("plan_id")
            why = (
                "the database records no policy file: it was built before trainplan listed the policy among "
                "plan_input_files, and a refresh records it"
                if config_hash(con) == "unknown"
                else "the database changed since the plan was written"
            )
            problems.append(
                f"plan_id changed: the plan is {plan.plan_id} but its database {db_path} would export "
                f"{plan_id_now} now ({why})"
            )
        recorded = plan.metadata.get("inputs_fingerprint")
        if recorded is not None:
            now_con, why_not = _files_now(db_path)
            if now_con is None:
                return Freshness(
                    False, tuple(changed), (*problems, f"inputs_fingerprint not checked: {why_not}"), db_path
                )
            try:
                fingerprint = inputs_fingerprint(now_con)
                if fingerprint != recorded:
                    changed.append("inputs_fingerprint")
                    problems.append(
                        f"inputs_fingerprint changed: the files the build read differ from those the plan was "
                        f"built from ({recorded} then, {fingerprint} now): {_file_changes(con, now_con)}"
                    )
            finally:
                now_con.close()
    return Freshness(True, tuple(changed), tuple(problems), db_path)
