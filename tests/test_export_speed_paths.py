"""The fast export's own paths: views cut from the jobs' text in a worker thread, the mirror as a hard link, the
YAML escape decision by byte scan, and failures on either thread leaving the previous plan whole."""

from __future__ import annotations

import itertools
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from trainplan.export import training_files as export_module
from trainplan.export.escape import utf8_needs_yaml_escape
from trainplan.export.export import PlanInvalid, export_plan
from trainplan.export.stream import array_bytes, partition_batches, run_slices, write_partitioned

from bench.plan_db import build_plan_db
from tests.test_plan_export import _snapshot

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@given(
    keys=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "é", "", "a/b"])), max_size=40),
    rows=st.integers(min_value=1, max_value=7),
)
def test_partition_batches_groups_stably(keys: list[str | None], rows: int) -> None:
    """Every non-null key's rows, in their original order, whatever the batch size; null keys are left out."""
    texts = [f"<{i}>" for i in range(len(keys))]
    got: dict[str, list[str]] = {}
    for batch_keys, batch_texts in partition_batches(pa.array(keys, pa.string()), pa.array(texts), rows=rows):
        assert len(batch_keys) == len(batch_texts) <= rows
        for key, text in zip(batch_keys.to_pylist(), batch_texts.to_pylist(), strict=True):
            got.setdefault(key, []).append(text)
    expected: dict[str, list[str]] = {}
    for key, text in zip(keys, texts, strict=True):
        if key is not None:
            expected.setdefault(key, []).append(text)
    assert got == expected
    assert list(got) == list(expected)  # groups in the order their key first appears


@given(
    keys=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "é", "", "a/b"])), max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
)
def test_run_slices_match_partition_batches(keys: list[str | None], cuts: list[int]) -> None:
    """The zero-copy runs give every non-null key's rows in their original order, groups in first-appearance
    order, like the copying path, whatever the chunk boundaries; too many runs give None."""
    texts = [f"<{i}>" for i in range(len(keys))]
    bounds = sorted({0, len(keys), *(c for c in cuts if c <= len(keys))})
    schema = pa.schema([("key", pa.string()), ("line", pa.large_string())])
    table = pa.Table.from_batches(
        [pa.record_batch([pa.array(keys[a:b], pa.string()), pa.array(texts[a:b], pa.large_string())], schema=schema)
         for a, b in itertools.pairwise(bounds)],
        schema=schema,
    )  # fmt: skip
    slices = run_slices(table, max_runs=len(keys) + len(bounds))
    assert slices is not None
    got: dict[str, list[str]] = {}
    for slice_keys, slice_texts in slices:
        assert len(set(slice_keys.to_pylist())) == 1 and len(slice_keys) == len(slice_texts) > 0
        got.setdefault(slice_keys[0].as_py(), []).extend(slice_texts.to_pylist())
    expected: dict[str, list[str]] = {}
    for batch_keys, batch_texts in partition_batches(pa.array(keys, pa.string()), pa.array(texts)):
        for key, text in zip(batch_keys.to_pylist(), batch_texts.to_pylist(), strict=True):
            expected.setdefault(key, []).append(text)
    assert got == expected
    assert list(got) == list(expected)
    if keys:
        assert run_slices(table, max_runs=0) is None


def test_write_partitioned_one_file_per_key_across_batches(tmp_path: Path) -> None:
    keys = pa.array(["x", "y", "x", None, "y", "x"])
    texts = pa.array([f",{i}" for i in range(6)])
    written = write_partitioned(
        partition_batches(keys, texts, rows=2),
        lambda k: tmp_path / f"{k}.txt",
        lambda k: f"[{k}:".encode(),
        b"]",
        skip_first=1,
    )
    assert written == ["x", "y"]
    assert (tmp_path / "x.txt").read_text() == "[x:0,2,5]"
    assert (tmp_path / "y.txt").read_text() == "[y:1,4]"


def test_write_partitioned_stops_when_cancelled(tmp_path: Path) -> None:
    keys = pa.array(["x"] * 4)
    with pytest.raises(RuntimeError, match="stopped writing views"):
        write_partitioned(
            partition_batches(keys, pa.array(["a"] * 4), rows=1),
            lambda k: tmp_path / f"{k}.txt",
            lambda k: b"",
            b"",
            cancelled=lambda: True,
        )


@pytest.mark.parametrize(
    ("text", "escape"),
    [("plain ascii", False), ("é→ unicode", False), ("del\x7f", True), ("c1\x85x", True), ("c1\x9f", True)],
)
def test_needs_yaml_escape(text: str, escape: bool) -> None:
    assert utf8_needs_yaml_escape(array_bytes(pa.array(["ok", text], pa.large_string()))) is escape


def test_views_regroup_many_batches_and_exports_are_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches force every view across batch boundaries; two exports (worker thread) give the same bytes,
    and every view file holds exactly the master's jobs of its value, in plan order."""
    db = build_plan_db(tmp_path / "p.duckdb", ["t1", "t2", "t3"], [f"S{i:02d}" for i in range(25)])
    real = export_module.partition_batches
    monkeypatch.setattr(export_module, "partition_batches", lambda k, t: real(k, t, rows=7))
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "a", project=tmp_path, now=NOW)
        export_plan(con, plan_root=tmp_path / "b", project=tmp_path, now=NOW)
    tree_a, tree_b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert tree_a == tree_b
    jobs = json.loads(tree_a["training_plan/master_training_plan.json"])["jobs"]
    assert len(jobs) == 3 + 3 * 25
    for name, raw in tree_a.items():
        view = name.split("/")[1] if name.count("/") == 2 else None
        if view is None:
            continue
        doc = json.loads(raw)
        key = next(iter(doc))
        assert doc["jobs"] == [j for j in jobs if j[key] == doc[key]], name


def test_views_by_runs_equal_views_by_take(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The zero-copy run path and the take path write the same view files (RUN_ROWS 1 sends every view through
    the runs, a huge RUN_ROWS through take); a small plan takes the take path by default."""
    db = build_plan_db(tmp_path / "p.duckdb", ["t1", "t2", "t/3"], [f"S{i:02d}" for i in range(9)])
    trees = {}
    for run_rows in (1, 10**9):
        monkeypatch.setattr(export_module, "RUN_ROWS", run_rows)
        root = tmp_path / f"rows{run_rows}"
        with duckdb.connect(str(db), read_only=True) as con:
            export_plan(con, plan_root=root, project=tmp_path, now=NOW)
        trees[run_rows] = _snapshot(root)
    assert trees[1] == trees[10**9]
    assert sum(name.startswith("training_plan/by_") for name in trees[1]) == 3 + 9 + 2 + 4


def test_mirror_is_a_hard_link_after_publication(tmp_path: Path) -> None:
    db = build_plan_db(tmp_path / "p.duckdb", 2, 3)
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "run", project=tmp_path)
        export_plan(con, plan_root=tmp_path / "run", project=tmp_path)  # a second publication replaces the first
    folder = tmp_path / "run/globals/training_plan"
    master, mirror = folder / "master_training_plan.json", folder / "training_plan.json"
    assert os.path.samefile(master, mirror)
    assert master.stat().st_nlink == 2
    assert mirror.read_bytes() == master.read_bytes()
    assert json.loads(mirror.read_bytes())["metadata"]["total_jobs"] == 2 + 2 * 3


def test_mirror_falls_back_to_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: object, dst: object) -> None:
        raise OSError("links not supported here")

    monkeypatch.setattr(export_module.os, "link", refuse)
    db = build_plan_db(tmp_path / "p.duckdb", 1, 2)
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "run", project=tmp_path)
    folder = tmp_path / "run/globals/training_plan"
    master, mirror = folder / "master_training_plan.json", folder / "training_plan.json"
    assert not os.path.samefile(master, mirror)
    assert mirror.read_bytes() == master.read_bytes()


def test_main_thread_failure_stops_the_worker_and_keeps_the_previous_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = build_plan_db(tmp_path / "old.duckdb", ["t_a"], ["AAA"])
    new = build_plan_db(tmp_path / "new.duckdb", ["t_b"], ["BBB", "CCC"])
    root = tmp_path / "run"
    with duckdb.connect(str(old), read_only=True) as con:
        export_plan(con, plan_root=root, project=tmp_path)
    before = _snapshot(root)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "_write_training_markdown", boom)
    with duckdb.connect(str(new), read_only=True) as con, pytest.raises(OSError, match="disk full"):
        export_plan(con, plan_root=root, project=tmp_path)
    assert _snapshot(root) == before
    current = os.readlink(root / "globals/.plan-current")
    assert [p.name for p in (root / "globals").iterdir() if p.name.startswith(".plan-") and not p.is_symlink()] == [
        current
    ]


def test_plan_without_jobs(tmp_path: Path) -> None:
    """No job: the fetched jobs' text is empty (one empty chunk), the files say so, no view folder has a file."""
    db = build_plan_db(tmp_path / "p.duckdb", 1, 2)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from training_jobs")
    with duckdb.connect(str(db), read_only=True) as con:
        result = export_plan(con, plan_root=tmp_path / "run", project=tmp_path)
    assert result.total_jobs == 0
    folder = tmp_path / "run/globals/training_plan"
    plan = json.loads((folder / "master_training_plan.json").read_text())
    assert plan["jobs"] == [] and plan["metadata"]["total_jobs"] == 0
    assert (folder / "training_plan.yaml").read_text().startswith("jobs: []\n")
    assert not any(p.is_file() for p in folder.rglob("by_*/*"))


def test_policy_chooses_the_files_and_the_chosen_ones_are_unchanged(tmp_path: Path) -> None:
    """dump_plan_as [] and training_plan_files [BY_TARGET]: the master, its mirror, by_target/ and the candidates
    snapshot only; those files hold the same bytes as in the full export, apart from the metadata that names
    the files (routing_plan_path, plan_id)."""
    targets, symbols = ["t1", "t2"], ["S1", "S2", "S3"]
    full = build_plan_db(tmp_path / "full.duckdb", targets, symbols)
    lean = build_plan_db(
        tmp_path / "lean.duckdb", targets, symbols, dump_plan_as=(), training_plan_files=("BY_TARGET",)
    )
    for db, root in ((full, tmp_path / "a"), (lean, tmp_path / "b")):
        with duckdb.connect(str(db), read_only=True) as con:
            export_plan(con, plan_root=root, project=tmp_path, now=NOW)
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert sorted(b) == [
        "routing_plan/routing_candidates.parquet",
        "training_plan/by_target/t1.json",
        "training_plan/by_target/t2.json",
        "training_plan/master_training_plan.json",
        "training_plan/training_plan.json",
    ]
    assert len(a) > len(b) + 10
    for name in ("training_plan/by_target/t1.json", "training_plan/by_target/t2.json"):
        assert b[name] == a[name]
    plan_a, plan_b = (json.loads(t["training_plan/master_training_plan.json"]) for t in (a, b))
    assert plan_b["jobs"] == plan_a["jobs"] and plan_b["summary"] == plan_a["summary"]
    assert plan_a["metadata"]["routing_plan_path"] == "globals/routing_plan/routing_plan.json"
    assert plan_b["metadata"]["routing_plan_path"] is None
    assert plan_b["metadata"]["plan_id"] != plan_a["metadata"]["plan_id"]


def test_training_plan_files_default_and_unknown_value(tmp_path: Path) -> None:
    """A policy relation without training_plan_files (built before the key existed) gets the reference's whole
    file set; an unknown name is refused before anything is written."""
    db = build_plan_db(tmp_path / "p.duckdb", 1, 2)
    with duckdb.connect(str(db)) as con:
        con.execute("alter table routing_policy drop column training_plan_files")
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "run", project=tmp_path)
    folder = tmp_path / "run/globals/training_plan"
    assert {p.name for p in folder.iterdir()} == {
        "master_training_plan.json", "training_plan.json", "training_plan.yaml", "training_plan.md",
        "by_target", "by_symbol", "by_type", "by_route",
    }  # fmt: skip
    with duckdb.connect(str(db)) as con:
        con.execute(
            "alter table routing_policy add column training_plan_files varchar[] default ['YAML', 'BY_SYMBOLS']"
        )
    with duckdb.connect(str(db), read_only=True) as con, pytest.raises(PlanInvalid, match="unknown file 'BY_SYMBOLS'"):
        export_plan(con, plan_root=tmp_path / "other", project=tmp_path)
    assert not (tmp_path / "other/globals/training_plan").exists()
