"""The exported plan files: the reference's formats key by key (README "Plan files"), determinism, atomic publication."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from trainplan.config.settings import project_dir
from trainplan.export import header as export_header
from trainplan.export import store, training_files
from trainplan.export.export import PlanInvalid, export_plan
from trainplan.plan.files import load_training_plan
from trainplan.plan.names import name_in_view_file, view_file_name
from trainplan.plan.validate import validate_plan

from bench.plan_db import build_plan_db
from tests.conftest import SAMPLE_RUN, Built, build

REF_METADATA = [
    "generated_at", "run_id", "git_commit", "config_hash", "routing_plan_path", "metrics_snapshot", "total_jobs",
    "model_families_requested", "model_families_normalized", "model_families",
]  # fmt: skip
ADDED_METADATA = ["schema_version", "plan_id", "semantics", "inputs_fingerprint", "rejected_inputs"]
REF_JOB_KEYS = [
    "job_id", "target", "symbol", "route", "training_type", "model_families", "priority", "estimated_samples",
    "reason", "metadata",
]  # fmt: skip
REF_SUMMARY = ["by_route", "by_type", "by_priority", "total_cs_jobs", "total_symbol_jobs", "total_blocked"]
STATES = {"STRONG", "WEAK_BUT_OK", "EXPERIMENTAL", "DISALLOWED"}
ROUTE_FILES = {"cross_sectional.json", "symbol_specific.json", "both.json", "experimental_only.json", "blocked.json"}


def _plan_dir(root: Path) -> Path:
    return root / "globals" / "training_plan"


def _routing_dir(root: Path) -> Path:
    return root / "globals" / "routing_plan"


# ------------------------------------------------------------------ golden: master plan


def test_master_plan_keys_and_order(sample_built: Built) -> None:
    plan = json.loads(sample_built.master_plan.read_text())
    assert list(plan) == ["metadata", "jobs", "summary"]
    assert list(plan["metadata"]) == REF_METADATA + ADDED_METADATA
    assert list(plan["summary"]) == REF_SUMMARY
    assert plan["metadata"]["total_jobs"] == len(plan["jobs"]) > 0
    for job in plan["jobs"]:
        assert list(job)[: len(REF_JOB_KEYS)] == REF_JOB_KEYS
        assert set(job) - set(REF_JOB_KEYS) <= {"excluded_features"}
        assert isinstance(job["priority"], int)
        assert isinstance(job["reason"], str)
        assert job["model_families"] == ["lightgbm", "xgboost"]


def test_metadata_values(sample_built: Built) -> None:
    meta = json.loads(sample_built.master_plan.read_text())["metadata"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", meta["generated_at"])
    assert re.fullmatch(r"\d{8}_\d{6}", meta["run_id"])
    policy = project_dir() / "CONFIG/training_config/routing_config.yaml"
    assert meta["config_hash"] == hashlib.sha256(policy.read_bytes()).hexdigest()[:8]
    # the paths name files that exist, relative to the output root (the reference's were wrong)
    assert (sample_built.out_dir / meta["routing_plan_path"]).is_file()
    assert meta["routing_plan_path"] == "globals/routing_plan/routing_plan.json"
    snapshot = sample_built.out_dir / meta["metrics_snapshot"]
    with sample_built.connect() as con:
        n_candidates = con.execute("select count(*) from routing_candidates").fetchone()[0]
        n_files = con.execute("select count(*) from plan_input_files").fetchone()[0]
        assert con.execute(f"select count(*) from read_parquet('{snapshot}')").fetchone()[0] == n_candidates
    assert meta["schema_version"] == "1.0"
    assert re.fullmatch(r"[0-9a-f]{16}", meta["plan_id"])
    assert re.fullmatch(r"[0-9a-f]{16}", meta["inputs_fingerprint"]) and n_files > 0
    assert meta["semantics"] == "strict"


def test_job_order_and_summary(sample_built: Built) -> None:
    plan = json.loads(sample_built.master_plan.read_text())
    jobs = plan["jobs"]
    keys = [(-j["priority"], j["target"], j["symbol"] is not None, j["symbol"] or "") for j in jobs]
    assert keys == sorted(keys)  # priority desc, then target, CS first, then symbol
    summary = plan["summary"]
    assert all(isinstance(k, str) and k.isdigit() for k in summary["by_priority"])
    # insertion order = first appearance in the sorted jobs (the reference's Counter-over-jobs order)
    assert list(summary["by_route"]) == list(dict.fromkeys(j["route"] for j in jobs))
    assert list(summary["by_priority"]) == list(dict.fromkeys(str(j["priority"]) for j in jobs))
    assert summary["total_cs_jobs"] == sum(j["training_type"] == "cross_sectional" for j in jobs)
    assert summary["total_symbol_jobs"] == sum(j["training_type"] == "symbol_specific" for j in jobs)


def test_job_metadata_fixes_reference_bugs(sample_built: Built) -> None:
    jobs = json.loads(sample_built.master_plan.read_text())["jobs"]
    cs = [j for j in jobs if j["training_type"] == "cross_sectional"]
    sym = [j for j in jobs if j["training_type"] == "symbol_specific"]
    assert cs and sym
    for job in cs:
        assert job["symbol"] is None and job["job_id"] == f"cs_{job['target']}"
        assert list(job["metadata"])[:2] == ["cs_state", "sample_size"]
        assert job["metadata"]["cs_state"] in STATES  # the signal state, not the stability value
        assert isinstance(job["metadata"]["sample_size"], int)  # real, not always null
        assert job["metadata"]["sample_size"] == job["estimated_samples"]
    for job in sym:
        assert job["job_id"] == f"sym_{job['target']}_{job['symbol']}"
        assert list(job["metadata"])[:3] == ["cs_state", "local_state", "needs_cs_ensemble"]
        assert job["metadata"]["needs_cs_ensemble"] == (job["route"] == "ROUTE_BOTH")
        assert len(job["reason"].split("; ")) == 3


def test_mirror_yaml_and_markdown(sample_built: Built) -> None:
    folder = _plan_dir(sample_built.out_dir)
    master = (folder / "master_training_plan.json").read_bytes()
    assert (folder / "training_plan.json").read_bytes() == master
    plan = json.loads(master)
    doc = yaml.safe_load((folder / "training_plan.yaml").read_text())
    assert list(doc) == ["jobs", "metadata", "summary"]  # yaml.dump sorts keys
    assert all(isinstance(k, int) for k in doc["summary"]["by_priority"])  # the reference's YAML keeps ints
    doc["summary"]["by_priority"] = {str(k): v for k, v in doc["summary"]["by_priority"].items()}
    assert doc == plan
    md = (folder / "training_plan.md").read_text()
    for heading in ("# Training Plan", "## Summary", "### By Route", "### By Priority", "## Training Jobs"):
        assert heading in md
    for target in {j["target"] for j in plan["jobs"]}:
        assert f"### {target}\n" in md


def test_derived_views(sample_built: Built) -> None:
    folder = _plan_dir(sample_built.out_dir)
    jobs = json.loads((folder / "master_training_plan.json").read_text())["jobs"]
    for view, key in (
        ("by_target", "target"),
        ("by_symbol", "symbol"),
        ("by_type", "training_type"),
        ("by_route", "route"),
    ):
        files = sorted(p.name for p in (folder / view).iterdir())
        values = sorted({j[key] for j in jobs if j[key] is not None})
        expected = [view_file_name(v.removeprefix("ROUTE_").lower() if key == "route" else v) for v in values]
        assert files == sorted(expected)
        for value in values:
            stem = value.removeprefix("ROUTE_").lower() if key == "route" else value
            doc = json.loads((folder / view / view_file_name(stem)).read_text())
            assert list(doc) == [key, "jobs"]
            assert doc[key] == value
            assert doc["jobs"] == [j for j in jobs if j[key] == value]
    assert {p.name for p in (folder / "by_route").iterdir()} <= ROUTE_FILES


# ------------------------------------------------------------------ golden: routing plan


def test_routing_plan_formats(sample_built: Built) -> None:
    folder = _routing_dir(sample_built.out_dir)
    plan = json.loads((folder / "routing_plan.json").read_text())
    assert list(plan) == ["metadata", "targets"]
    assert list(plan["metadata"])[:5] == ["generated_at", "git_commit", "config_hash", "metrics_snapshot", "view"]
    master = json.loads(sample_built.master_plan.read_text())["metadata"]
    assert plan["metadata"]["plan_id"] == master["plan_id"]
    assert plan["metadata"]["config_hash"] == master["config_hash"]
    with sample_built.connect() as con:
        decisions = {
            (t, s): (r, reasons)
            for t, s, r, reasons in con.execute(
                "select target, symbol, route, reasons from routing_decisions"
            ).fetchall()
        }
    assert set(plan["targets"]) == {t for t, _ in decisions}
    for target, entry in plan["targets"].items():
        assert list(entry) == ["cross_sectional", "symbols"]
        cs = entry["cross_sectional"]
        assert list(cs)[:3] == ["state", "route", "reason"]
        assert cs["state"] in STATES and cs["route"] in {"ENABLED", "DISABLED"}
        assert cs["route"] == ("ENABLED" if decisions[(target, None)][0] == "ROUTE_CROSS_SECTIONAL" else "DISABLED")
        assert list(entry["symbols"]) == sorted(entry["symbols"])
        for symbol, dec in entry["symbols"].items():
            assert list(dec)[:4] == ["route", "cs_state", "local_state", "reason"]
            assert (dec["route"], dec["reason"]) == decisions[(target, symbol)]
            assert len(dec["reason"]) == 3
    assert yaml.safe_load((folder / "routing_plan.yaml").read_text()) == plan
    md = (folder / "routing_plan.md").read_text()
    for text in (
        "# Routing Plan",
        "**Git Commit:**",
        "## Overall Summary",
        "## Summary by Target",
        "| Symbol | Route |",
    ):
        assert text in md


def test_sample_plan_is_valid(sample_built: Built) -> None:
    plan = load_training_plan(sample_built.out_dir)
    routing = json.loads((_routing_dir(sample_built.out_dir) / "routing_plan.json").read_text())
    assert validate_plan(plan, routing) == []


# ------------------------------------------------------------------ determinism


# the generation time (generated_at, in every format) and run_id; nothing else in the files looks like either
VOLATILE = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z|(?<![0-9])\d{8}_\d{6}(?![0-9])")


def _files(root: Path) -> dict[str, bytes]:
    base = root / "globals"
    out = {}
    for folder in ("routing_plan", "training_plan"):
        for path in sorted((base / folder).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(base))] = VOLATILE.sub(b"<masked>", path.read_bytes())
    return out


def test_two_exports_differ_only_in_generated_at_and_run_id(
    sample_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    a = export_plan(
        sample_con, plan_root=tmp_path / "a", project=project_dir(), now=datetime(2026, 1, 5, 10, 31, 7, tzinfo=UTC)
    )
    b = export_plan(
        sample_con, plan_root=tmp_path / "b", project=project_dir(), now=datetime(2026, 2, 6, 11, 0, 0, tzinfo=UTC)
    )
    assert a.plan_id == b.plan_id
    raw_a = (tmp_path / "a/globals/training_plan/master_training_plan.json").read_bytes()
    raw_b = (tmp_path / "b/globals/training_plan/master_training_plan.json").read_bytes()
    assert raw_a != raw_b  # the timestamps do differ...
    files_a, files_b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(files_a) > 20
    assert files_a == files_b  # ...and nothing else


def test_two_builds_of_the_same_run_give_the_same_files(sample_built: Built, tmp_path: Path) -> None:
    """A second dbt build (multi-threaded, insertion order not preserved) of the same inputs writes the same plan."""
    again = build(SAMPLE_RUN, tmp_path / "again")
    files_first, files_again = _files(sample_built.out_dir), _files(again.out_dir)
    assert len(files_first) > 20
    assert files_first == files_again


def test_plan_id_follows_the_content(tmp_path: Path) -> None:
    ids = []
    for i, families in enumerate((("lightgbm",), ("lightgbm",), ("lightgbm", "xgboost"))):
        db = build_plan_db(tmp_path / f"{i}.duckdb", 2, 3, families=families)
        with duckdb.connect(str(db), read_only=True) as con:
            ids.append(export_plan(con, plan_root=tmp_path / f"out{i}", project=tmp_path).plan_id)
    assert ids[0] == ids[1] != ids[2]


# ------------------------------------------------------------------ atomic publication


def _snapshot(root: Path) -> dict[str, bytes]:
    base = root / "globals"
    return {
        str(p.relative_to(base)): p.read_bytes()
        for folder in ("routing_plan", "training_plan")
        for p in sorted((base / folder).rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def two_dbs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        build_plan_db(tmp_path / "old.duckdb", ["t_a", "t_b"], ["AAA", "BBB"]),
        build_plan_db(tmp_path / "new.duckdb", ["t_a"], ["AAA", "CCC"]),
    )


def _export(db: Path, root: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=root, project=root)


def test_failure_midway_leaves_previous_plan(
    two_dbs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = two_dbs
    root = tmp_path / "run"
    _export(old, root)
    before = _snapshot(root)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(training_files, "write_partitioned", boom)
    with pytest.raises(OSError, match="disk full"):
        _export(new, root)
    assert _snapshot(root) == before
    assert sorted(
        p.name for p in (root / "globals").iterdir() if p.name.startswith(".plan-") and not p.is_symlink()
    ) == [os.readlink(root / "globals/.plan-current")]


KILLER = """
import os, signal, sys
from pathlib import Path
import duckdb
from trainplan.export import export, routing_files, training_files
calls = {"n": 0}
def dying(real):
    def write_then_die(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally: like a power cut of the process
        return real(*args, **kwargs)
    return write_then_die
# every file writer, in both threads (10 calls for this plan)
for module in (training_files, routing_files):
    for name in ("write_rows", "write_grouped", "write_array", "write_partitioned"):
        if hasattr(module, name):
            setattr(module, name, dying(getattr(module, name)))
with duckdb.connect(sys.argv[1], read_only=True) as con:
    export.export_plan(con, plan_root=Path(sys.argv[2]), project=Path(sys.argv[2]))
"""


@pytest.mark.parametrize("kill_at", [1, 2, 4, 8])
def test_kill_midway_leaves_previous_plan(two_dbs: tuple[Path, Path], tmp_path: Path, kill_at: int) -> None:
    old, new = two_dbs
    root = tmp_path / "run"
    _export(old, root)
    before = _snapshot(root)
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(new), str(root), str(kill_at)], check=False, cwd=project_dir()
    )
    assert proc.returncode == -9
    assert _snapshot(root) == before
    assert load_training_plan(root)["metadata"]["total_jobs"] == 2 + 2 * 2
    # the next export completes and removes the half-written folder
    _export(new, root)
    leftovers = [p.name for p in (root / "globals").iterdir() if p.name.startswith(".plan-")]
    assert sorted(leftovers) == sorted([".plan-current", os.readlink(root / "globals/.plan-current")])


def test_stale_view_files_are_removed(two_dbs: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = two_dbs
    root = tmp_path / "run"
    _export(old, root)
    assert {p.name for p in (_plan_dir(root) / "by_target").iterdir()} == {"t_a.json", "t_b.json"}
    _export(new, root)
    assert {p.name for p in (_plan_dir(root) / "by_target").iterdir()} == {"t_a.json"}
    assert {p.name for p in (_plan_dir(root) / "by_symbol").iterdir()} == {"AAA.json", "CCC.json"}


@pytest.mark.parametrize("rmtree_after", [True, False], ids=["as_shipped", "threads_alone"])
def test_a_stale_plan_folder_is_removed_whole_without_following_its_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rmtree_after: bool
) -> None:
    """remove_stale unlinks a stale plan's files on several threads: every file, hard link and folder goes, a link
    is removed and never followed, and the current plan and anything not named .plan-* stay. `threads_alone`: with
    the closing shutil.rmtree made a no-op, the threaded unlinks and the folders' removal do it all."""
    if not rmtree_after:
        monkeypatch.setattr(store.shutil, "rmtree", lambda *args, **kwargs: None)
    globals_dir = tmp_path / "globals"
    (globals_dir / ".plan-cur" / "training_plan").mkdir(parents=True)
    (globals_dir / ".plan-cur" / "training_plan" / "master_training_plan.json").write_text("{}", encoding="utf-8")
    os.symlink(".plan-cur", globals_dir / ".plan-current")
    stale = globals_dir / ".plan-old" / "training_plan"
    views = stale / "by_symbol"
    views.mkdir(parents=True)
    for i in range(300):
        (views / f"S{i:03}.json").write_text("{}", encoding="utf-8")
    (stale / "master_training_plan.json").write_text("{}", encoding="utf-8")
    os.link(stale / "master_training_plan.json", stale / "training_plan.json")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.json").write_text("kept", encoding="utf-8")
    os.symlink(outside, stale / "linked_folder")
    os.symlink(outside / "keep.json", views / "linked.json")
    (globals_dir / ".plan-link-0a1b").symlink_to("nowhere")  # a link an export left behind
    (globals_dir / "user_notes").mkdir()
    store.remove_stale(globals_dir)
    assert sorted(p.name for p in globals_dir.iterdir()) == [".plan-cur", ".plan-current", "user_notes"]
    assert (globals_dir / ".plan-cur" / "training_plan" / "master_training_plan.json").is_file()
    assert sorted(p.name for p in outside.iterdir()) == ["keep.json"]


def test_removing_a_link_in_place_of_a_stale_folder_leaves_its_target_alone(tmp_path: Path) -> None:
    """The removal is handed folders only; a link it is handed anyway (a folder swapped for one) is not followed."""
    outside = tmp_path / "outside"
    (outside / "inner").mkdir(parents=True)
    (outside / "inner" / "keep.json").write_text("kept", encoding="utf-8")
    link = tmp_path / ".plan-old"
    link.symlink_to(outside, target_is_directory=True)
    store._remove_tree(link)
    assert (outside / "inner" / "keep.json").read_text(encoding="utf-8") == "kept"


def test_reference_folders_are_replaced(two_dbs: tuple[Path, Path], tmp_path: Path) -> None:
    root = tmp_path / "run"
    legacy = _plan_dir(root) / "by_target"
    legacy.mkdir(parents=True)
    (legacy / "gone.json").write_text("{}")
    _export(two_dbs[0], root)
    assert (root / "globals/training_plan").is_symlink()
    assert not (_plan_dir(root) / "by_target/gone.json").exists()


def test_invalid_plan_is_not_published(tmp_path: Path) -> None:
    db = build_plan_db(tmp_path / "bad.duckdb", 1, 2)
    with duckdb.connect(str(db)) as con:
        con.execute("update training_jobs set route = 'ROUTE_NOWHERE' where symbol = 'SYM00001'")
    root = tmp_path / "run"
    with duckdb.connect(str(db), read_only=True) as con, pytest.raises(PlanInvalid, match="ROUTE_NOWHERE"):
        export_plan(con, plan_root=root, project=tmp_path)
    assert not (root / "globals").exists()  # checked before anything is written


# ------------------------------------------------------------------ hostile names


def test_hostile_names_stay_inside_their_folders(tmp_path: Path) -> None:
    targets = ["../../escaped", "a/b", "t\x00nul", "T" * 300, "Aa", "aa", ".hidden", "c1\x9fname"]
    symbols = ["../up", "S/L", "s\x00n", "é→", "x" * 300]
    db = build_plan_db(tmp_path / "hostile.duckdb", targets, symbols)
    root = tmp_path / "deep" / "run"
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=root, project=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "hostile.duckdb"]
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["run"]
    real_root = (root / "globals").resolve()
    for path in (root / "globals").rglob("*"):
        assert real_root in path.resolve().parents or path.resolve() == real_root
    folder = _plan_dir(root)
    for view, key, names in (("by_target", "target", targets), ("by_symbol", "symbol", symbols)):
        files = list((folder / view).iterdir())
        assert len(files) == len(names)
        assert sorted(name_in_view_file(p, key) for p in files) == sorted(names)
    plan = load_training_plan(root)
    assert {j["target"] for j in plan["jobs"]} == set(targets)
    assert yaml.safe_load((folder / "training_plan.yaml").read_text())["jobs"] == plan["jobs"]
    routing = json.loads((_routing_dir(root) / "routing_plan.json").read_text())
    assert yaml.safe_load((_routing_dir(root) / "routing_plan.yaml").read_text()) == routing


def test_rejected_inputs_and_fingerprint_follow_their_relations(tmp_path: Path) -> None:
    db = build_plan_db(tmp_path / "plain.duckdb", 1, 2)
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "a", project=tmp_path)
    meta = load_training_plan(tmp_path / "a")["metadata"]
    assert meta["rejected_inputs"] is None  # no rejected_inputs relation: not recorded, not 0
    assert meta["inputs_fingerprint"] is None
    with duckdb.connect(str(db)) as con:
        con.execute("create table rejected_inputs as select range as i from range(3)")
        con.execute("create table plan_input_files as select 'run' as input_kind, 'a.json' as path, 'ab' as sha256")
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "b", project=tmp_path)
        con_fp = export_header.inputs_fingerprint(con)
    meta = load_training_plan(tmp_path / "b")["metadata"]
    assert meta["rejected_inputs"] == 3
    assert meta["inputs_fingerprint"] == con_fp == hashlib.sha256(b"a.json\tab").hexdigest()[:16]


def test_targets_without_symbols_or_cs_row(tmp_path: Path) -> None:
    db = build_plan_db(tmp_path / "edge.duckdb", ["lonely", "no_cs"], [])
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into routing_decisions by name select 'no_cs' as target, 'S1' as symbol, 'ROUTE_BLOCKED' as route"
        )
        con.execute("delete from routing_decisions where target = 'no_cs' and symbol is null")
        con.execute("delete from training_jobs where target = 'no_cs'")
    root = tmp_path / "run"
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=root, project=tmp_path)
    routing = json.loads((_routing_dir(root) / "routing_plan.json").read_text())
    assert routing["targets"]["lonely"]["symbols"] == {}
    assert routing["targets"]["no_cs"]["cross_sectional"] == {
        "state": "DISALLOWED",
        "route": "DISABLED",
        "reason": "No CS metrics",
    }
    assert list(routing["targets"]["no_cs"]["symbols"]) == ["S1"]
    assert yaml.safe_load((_routing_dir(root) / "routing_plan.yaml").read_text()) == routing
    md = (_routing_dir(root) / "routing_plan.md").read_text()
    assert "### lonely\n" in md and "### no_cs\n" in md
    assert [j["job_id"] for j in load_training_plan(root)["jobs"]] == ["cs_lonely"]
